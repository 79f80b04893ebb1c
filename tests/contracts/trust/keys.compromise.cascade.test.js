// TrustRegistry: declaring a key compromised voids the successors it rotated itself to, down the
// chain of self-rotations (at most MAX_CASCADE per declaration).

const { ethers } = require("hardhat");
const { expect } = require("chai");
const { time, setBalance } = require("@nomicfoundation/hardhat-network-helpers");

const {
  OPEN_END,
  accept,
  rememberKey,
  ISSUER_ID,
  deployFixture,
  makeBatch,
  eventsOf,
  nextTimestamp,
  inOneBlock,
  loadFixtureNow,
} = require("../helpers");

describe("TrustRegistry", function () {
  beforeEach(async function () {
    Object.assign(this, await loadFixtureNow(deployFixture));
  });

  describe("declareKeyCompromised", function () {
    beforeEach(async function () {
      await time.increase(100);
    });

    describe("successors the key rotated itself to", function () {
      /**
       * `from` rotates itself to `to` at the next block, `delta` seconds on (checking the events, in
       * order, and the recorded rotation); returns that time.
       */
      async function selfRotate(ctx, from, to, delta = 10n) {
        const ts = await nextTimestamp(delta);
        const tx = ctx.trust.connect(from).rotateKey(ISSUER_ID, from.address, to.address, accept(ISSUER_ID, to.address));
        expect(await eventsOf(ctx.trust, tx)).to.deep.equal([
          ["KeyRetired", ISSUER_ID, from.address, ts + 1n],
          ["KeyAdded", ISSUER_ID, to.address, ts, OPEN_END],
          ["KeyRotated", ISSUER_ID, from.address, to.address, true],
        ]);
        expect(await ctx.trust.getRotation(from.address)).to.deep.equal([to.address, true, true]);
        return ts;
      }

      /** `key` is not valid at any time, cannot act, and cannot anchor. */
      async function expectVoided(ctx, key, validFrom) {
        expect(await ctx.trust.getKey(key.address)).to.deep.equal([ISSUER_ID, validFrom, validFrom]);
        const now = BigInt(await time.latest());
        for (const at of [0n, validFrom - 1n, validFrom, validFrom + 1n, now, now + 1000n, OPEN_END - 1n]) {
          expect(await ctx.trust.isKeyValid(ISSUER_ID, key.address, at)).to.be.false;
        }
        const batch = makeBatch(2, `voided ${key.address}`);
        const ts = await nextTimestamp();
        await expect(ctx.registry.connect(key).anchor(batch.root, batch.digests))
          .to.be.revertedWithCustomError(ctx.registry, "LicenseRegistryKeyNotValid")
          .withArgs(ISSUER_ID, key.address, ts);
        await expect(ctx.trust.connect(key).rotateKey(ISSUER_ID, key.address, ctx.stranger.address, accept(ISSUER_ID, ctx.stranger.address)))
          .to.be.revertedWithCustomError(ctx.trust, "TrustRegistryNotIssuerOrAuthority")
          .withArgs(ISSUER_ID, key.address);
        await expect(ctx.trust.connect(key).retireKey(ISSUER_ID, key.address))
          .to.be.revertedWithCustomError(ctx.trust, "TrustRegistryNotIssuerOrAuthority")
          .withArgs(ISSUER_ID, key.address);
      }

      it("MAX_CASCADE, the most successors one declaration voids, is 64", async function () {
        expect(await this.trust.MAX_CASCADE()).to.equal(64n);
      });

      it("a thief's chain of self-rotations after compromisedAt is voided, in order, down the chain", async function () {
        const [thief1, thief2] = [this.newKey, this.spareKey];
        // the key is stolen at `stolenAt`; the thief rotates it to a key of their own, and again
        const stolenAt = BigInt(await time.latest());
        const t1 = await selfRotate(this, this.key, thief1);
        const t2 = await selfRotate(this, thief1, thief2);
        // meanwhile the thief's last key is valid and anchors
        const thiefBatch = makeBatch(2, "thief");
        await this.registry.connect(thief2).anchor(thiefBatch.root, thiefBatch.digests);
        expect(await this.trust.isKeyValid(ISSUER_ID, thief2.address, BigInt(await time.latest()))).to.be.true;

        await time.increase(10);
        const tx = this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.key.address, stolenAt);
        await expect(tx).to.emit(this.trust, "KeyCompromised").withArgs(ISSUER_ID, this.key.address, stolenAt);
        await expect(tx).to.emit(this.trust, "KeyCompromised").withArgs(ISSUER_ID, thief1.address, t1);
        await expect(tx).to.emit(this.trust, "KeyCompromised").withArgs(ISSUER_ID, thief2.address, t2);
        // the chain ends within MAX_CASCADE: the walk is not truncated
        await expect(tx).not.to.emit(this.trust, "KeyCompromiseWalkTruncated");
        expect(await eventsOf(this.trust, tx)).to.deep.equal([
          ["KeyCompromised", ISSUER_ID, this.key.address, stolenAt],
          ["KeyCompromised", ISSUER_ID, thief1.address, t1],
          ["KeyCompromised", ISSUER_ID, thief2.address, t2],
        ]);
        expect(await this.trust.getKey(this.key.address)).to.deep.equal([ISSUER_ID, this.keyValidFrom, stolenAt]);
        await expectVoided(this, thief1, t1);
        await expectVoided(this, thief2, t2);
        // the authority can do nothing more with them either
        const ts = await nextTimestamp();
        await expect(this.trust.connect(this.authority).retireKey(ISSUER_ID, thief2.address))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyNotValid")
          .withArgs(ISSUER_ID, thief2.address, ts);
        await expect(this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, thief2.address, t2))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryCompromiseTimeOutOfRange")
          .withArgs(thief2.address, t2, t2, t2);
        // and the thief's batch no longer counts as anchored by a valid key
        const anchor = await this.registry.getAnchor(ISSUER_ID, thiefBatch.root);
        expect(anchor.key).to.equal(thief2.address);
        expect(await this.trust.isKeyValid(ISSUER_ID, thief2.address, anchor.timestamp)).to.be.false;
      });

      it("keeps the self-rotation made before compromisedAt (a key declared in the middle of the chain)", async function () {
        const [a, b] = [this.newKey, this.spareKey];
        const t1 = await selfRotate(this, this.key, a);
        const t2 = await selfRotate(this, a, b, 20n);
        await time.increase(10);
        // a was stolen at t1 + 5, after the key rotated itself to it
        const tx = this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, a.address, t1 + 5n);
        expect(await eventsOf(this.trust, tx)).to.deep.equal([
          ["KeyCompromised", ISSUER_ID, a.address, t1 + 5n],
          ["KeyCompromised", ISSUER_ID, b.address, t2],
        ]);
        // the key's window (through the second of its rotation) and the rotation to `a` stand;
        // `a` keeps [t1, t1 + 5)
        expect(await this.trust.getKey(this.key.address)).to.deep.equal([ISSUER_ID, this.keyValidFrom, t1 + 1n]);
        expect(await this.trust.getKey(a.address)).to.deep.equal([ISSUER_ID, t1, t1 + 5n]);
        expect(await this.trust.isKeyValid(ISSUER_ID, a.address, t1)).to.be.true;
        expect(await this.trust.isKeyValid(ISSUER_ID, a.address, t1 + 4n)).to.be.true;
        expect(await this.trust.isKeyValid(ISSUER_ID, a.address, t1 + 5n)).to.be.false;
        await expectVoided(this, b, t2);
      });

      it("keeps a successor created by an authority's rotation, and the chain after it", async function () {
        const [a, b, c] = [this.newKey, this.spareKey, this.accounts[0]];
        const stolenAt = BigInt(await time.latest());
        // the authority rotates the key to `a`; `a` rotates itself to `b`
        const t1 = await nextTimestamp(10n);
        await expect(this.trust.connect(this.authority).rotateKey(ISSUER_ID, this.key.address, a.address, accept(ISSUER_ID, a.address)))
          .to.emit(this.trust, "KeyRotated")
          .withArgs(ISSUER_ID, this.key.address, a.address, false);
        expect(await this.trust.getRotation(this.key.address)).to.deep.equal([a.address, false, true]);
        const t2 = await selfRotate(this, a, b);
        await time.increase(10);
        const tx = this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.key.address, stolenAt);
        expect(await eventsOf(this.trust, tx)).to.deep.equal([["KeyCompromised", ISSUER_ID, this.key.address, stolenAt]]);
        await expect(tx).not.to.emit(this.trust, "KeyCompromiseWalkTruncated");
        expect(await this.trust.getKey(a.address)).to.deep.equal([ISSUER_ID, t1, t2 + 1n]);
        expect(await this.trust.getKey(b.address)).to.deep.equal([ISSUER_ID, t2, OPEN_END]);
        expect(await this.trust.isKeyValid(ISSUER_ID, b.address, BigInt(await time.latest()))).to.be.true;

        // a self-rotation followed by an authority rotation: the chain stops at the authority's key
        const t3 = await selfRotate(this, b, c);
        const d = this.accounts[1];
        const t4 = await nextTimestamp(10n);
        const rotation = this.trust.connect(this.authority).rotateKey(ISSUER_ID, c.address, d.address, accept(ISSUER_ID, d.address));
        expect(await eventsOf(this.trust, rotation)).to.deep.equal([
          ["KeyRetired", ISSUER_ID, c.address, t4 + 1n],
          ["KeyAdded", ISSUER_ID, d.address, t4, OPEN_END],
          ["KeyRotated", ISSUER_ID, c.address, d.address, false],
        ]);
        await time.increase(10);
        const tx2 = this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, b.address, t2 + 1n);
        expect(await eventsOf(this.trust, tx2)).to.deep.equal([
          ["KeyCompromised", ISSUER_ID, b.address, t2 + 1n],
          ["KeyCompromised", ISSUER_ID, c.address, t3],
        ]);
        expect(await this.trust.getKey(c.address)).to.deep.equal([ISSUER_ID, t3, t3]);
        expect(await this.trust.getKey(d.address)).to.deep.equal([ISSUER_ID, t4, OPEN_END]);
      });

      it("voids a successor that has since retired itself, and stops there", async function () {
        const a = this.newKey;
        const stolenAt = BigInt(await time.latest());
        const t1 = await selfRotate(this, this.key, a);
        const end = await nextTimestamp(10n);
        await this.trust.connect(a).retireKey(ISSUER_ID, a.address);
        expect(await this.trust.getKey(a.address)).to.deep.equal([ISSUER_ID, t1, end + 1n]);
        const tx = this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.key.address, stolenAt);
        expect(await eventsOf(this.trust, tx)).to.deep.equal([
          ["KeyCompromised", ISSUER_ID, this.key.address, stolenAt],
          ["KeyCompromised", ISSUER_ID, a.address, t1],
        ]);
        expect(await this.trust.getKey(a.address)).to.deep.equal([ISSUER_ID, t1, t1]);
      });

      it("a second, earlier declaration does not void the successors again", async function () {
        const a = this.newKey;
        const stolenAt = BigInt(await time.latest());
        const t1 = await selfRotate(this, this.key, a);
        await time.increase(10);
        await this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.key.address, stolenAt);
        const tx = this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.key.address, stolenAt - 10n);
        expect(await eventsOf(this.trust, tx)).to.deep.equal([
          ["KeyCompromised", ISSUER_ID, this.key.address, stolenAt - 10n],
        ]);
        expect(await this.trust.getKey(a.address)).to.deep.equal([ISSUER_ID, t1, t1]);
      });

      it("the latest compromisedAt accepted after a self-rotation is the rotation's second, which voids the successor", async function () {
        const t1 = await selfRotate(this, this.key, this.newKey);
        await time.increase(10);
        // the key's window ends after the second of its rotation: t1 + 1 is out of range
        await expect(this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.key.address, t1 + 1n))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryCompromiseTimeOutOfRange")
          .withArgs(this.key.address, t1 + 1n, this.keyValidFrom, t1 + 1n);
        // t1 is accepted, and voids the successor created in that second
        const tx = this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.key.address, t1);
        expect(await eventsOf(this.trust, tx)).to.deep.equal([
          ["KeyCompromised", ISSUER_ID, this.key.address, t1],
          ["KeyCompromised", ISSUER_ID, this.newKey.address, t1],
        ]);
        expect(await this.trust.getKey(this.key.address)).to.deep.equal([ISSUER_ID, this.keyValidFrom, t1]);
        expect(await this.trust.isKeyValid(ISSUER_ID, this.key.address, t1 - 1n)).to.be.true;
        expect(await this.trust.isKeyValid(ISSUER_ID, this.key.address, t1)).to.be.false;
        await expectVoided(this, this.newKey, t1);
      });

      describe("a thief's two self-rotations in one block (K -> A -> B, all at t)", function () {
        /** K rotates itself to A and A to B in one block; returns the time before the block and t. */
        async function rotateTwiceInOneBlock(ctx) {
          const stolenAt = BigInt(await time.latest());
          const t = stolenAt + 10n;
          const [a, b] = [ctx.newKey, ctx.spareKey];
          const { responses, receipts, timestamp } = await inOneBlock(
            [
              (o) => ctx.trust.connect(ctx.key).rotateKey(ISSUER_ID, ctx.key.address, a.address, accept(ISSUER_ID, a.address), o),
              (o) => ctx.trust.connect(a).rotateKey(ISSUER_ID, a.address, b.address, accept(ISSUER_ID, b.address), o),
            ],
            t,
          );
          expect(receipts.map((r) => r.status)).to.deep.equal([1, 1]);
          expect(timestamp).to.equal(t);
          expect(await eventsOf(ctx.trust, responses[0])).to.deep.equal([
            ["KeyRetired", ISSUER_ID, ctx.key.address, t + 1n],
            ["KeyAdded", ISSUER_ID, a.address, t, OPEN_END],
            ["KeyRotated", ISSUER_ID, ctx.key.address, a.address, true],
          ]);
          expect(await eventsOf(ctx.trust, responses[1])).to.deep.equal([
            ["KeyRetired", ISSUER_ID, a.address, t + 1n],
            ["KeyAdded", ISSUER_ID, b.address, t, OPEN_END],
            ["KeyRotated", ISSUER_ID, a.address, b.address, true],
          ]);
          // A's window is [t, t + 1), not empty; B's is [t, OPEN_END)
          expect(await ctx.trust.getKey(ctx.key.address)).to.deep.equal([ISSUER_ID, ctx.keyValidFrom, t + 1n]);
          expect(await ctx.trust.getKey(a.address)).to.deep.equal([ISSUER_ID, t, t + 1n]);
          expect(await ctx.trust.getKey(b.address)).to.deep.equal([ISSUER_ID, t, OPEN_END]);
          return { stolenAt, t, a, b };
        }

        for (const [description, when] of [
          ["from before the block", (stolenAt) => stolenAt],
          ["from the block's second t", (stolenAt, t) => t],
        ]) {
          it(`declaring K compromised ${description} voids A and B: neither is valid at any time, B cannot anchor`, async function () {
            const { stolenAt, t, a, b } = await rotateTwiceInOneBlock(this);
            const at = when(stolenAt, t);
            // the thief's B anchors meanwhile
            const forged = makeBatch(2, "forged by B");
            await this.registry.connect(b).anchor(forged.root, forged.digests);
            await time.increase(10);
            const tx = this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.key.address, at);
            await expect(tx).to.emit(this.trust, "KeyCompromised").withArgs(ISSUER_ID, a.address, t);
            await expect(tx).to.emit(this.trust, "KeyCompromised").withArgs(ISSUER_ID, b.address, t);
            await expect(tx).not.to.emit(this.trust, "KeyCompromiseWalkTruncated");
            expect(await eventsOf(this.trust, tx)).to.deep.equal([
              ["KeyCompromised", ISSUER_ID, this.key.address, at],
              ["KeyCompromised", ISSUER_ID, a.address, t],
              ["KeyCompromised", ISSUER_ID, b.address, t],
            ]);
            expect(await this.trust.getKey(this.key.address)).to.deep.equal([ISSUER_ID, this.keyValidFrom, at]);
            await expectVoided(this, a, t);
            await expectVoided(this, b, t);
            const anchor = await this.registry.getAnchor(ISSUER_ID, forged.root);
            expect(anchor.key).to.equal(b.address);
            expect(await this.trust.isKeyValid(ISSUER_ID, b.address, anchor.timestamp)).to.be.false;
          });
        }

        it("walks through successors voided before, without an event: A declared first, then K", async function () {
          const { stolenAt, t, a, b } = await rotateTwiceInOneBlock(this);
          await time.increase(10);
          const first = this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, a.address, t);
          expect(await eventsOf(this.trust, first)).to.deep.equal([
            ["KeyCompromised", ISSUER_ID, a.address, t],
            ["KeyCompromised", ISSUER_ID, b.address, t],
          ]);
          const second = this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.key.address, stolenAt);
          expect(await eventsOf(this.trust, second)).to.deep.equal([
            ["KeyCompromised", ISSUER_ID, this.key.address, stolenAt],
          ]);
          await expectVoided(this, a, t);
          await expectVoided(this, b, t);
        });
      });

      it("walks through a successor voided before, without an event, and voids the one before it", async function () {
        const [a, b, c] = [this.newKey, this.spareKey, this.accounts[0]];
        const stolenAt = BigInt(await time.latest());
        const t1 = await selfRotate(this, this.key, a);
        const t2 = await selfRotate(this, a, b);
        const t3 = await selfRotate(this, b, c);
        await time.increase(10);
        // b is declared compromised from its start: b and c are voided
        const first = this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, b.address, t2);
        expect(await eventsOf(this.trust, first)).to.deep.equal([
          ["KeyCompromised", ISSUER_ID, b.address, t2],
          ["KeyCompromised", ISSUER_ID, c.address, t3],
        ]);
        expect(await this.trust.getKey(a.address)).to.deep.equal([ISSUER_ID, t1, t2 + 1n]);
        // then the key: a is voided; b and c, voided already, are passed without an event
        const second = this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.key.address, stolenAt);
        expect(await eventsOf(this.trust, second)).to.deep.equal([
          ["KeyCompromised", ISSUER_ID, this.key.address, stolenAt],
          ["KeyCompromised", ISSUER_ID, a.address, t1],
        ]);
        await expectVoided(this, a, t1);
        await expectVoided(this, b, t2);
        await expectVoided(this, c, t3);
      });

      describe("at most MAX_CASCADE successors per declaration", function () {
        const CHAIN = 66; // self-rotations: keys K0 (the fixture's key), K1, ..., K66

        /**
         * The fixture's key rotates itself to K1, K1 to K2, ..., K(length - 1) to K(length), one
         * second apart; with `lastByAuthority`, the last rotation is made by an authority instead.
         */
        async function longChain(ctx, length = CHAIN, { lastByAuthority = false } = {}) {
          const keys = [ctx.key];
          for (let i = 1; i <= length; ++i) {
            const wallet = rememberKey(new ethers.Wallet(ethers.id(`cascade key ${i}`), ethers.provider));
            await setBalance(wallet.address, ethers.parseEther("1"));
            keys.push(wallet);
          }
          const stolenAt = BigInt(await time.latest());
          const starts = [ctx.keyValidFrom];
          for (let i = 0; i < length; ++i) {
            if (lastByAuthority && i === length - 1) {
              const ts = await nextTimestamp(1n);
              await expect(ctx.trust.connect(ctx.authority).rotateKey(ISSUER_ID, keys[i].address, keys[i + 1].address, accept(ISSUER_ID, keys[i + 1].address)))
                .to.emit(ctx.trust, "KeyRotated")
                .withArgs(ISSUER_ID, keys[i].address, keys[i + 1].address, false);
              starts.push(ts);
            } else {
              starts.push(await selfRotate(ctx, keys[i], keys[i + 1], 1n));
            }
          }
          return { keys, starts, stolenAt };
        }

        /** The events of voiding keys[from..to] (each at its start), in order. */
        function voidedEvents(keys, starts, from, to) {
          const events = [];
          for (let i = from; i <= to; ++i) events.push(["KeyCompromised", ISSUER_ID, keys[i].address, starts[i]]);
          return events;
        }

        /**
         * The first key `declared`'s last declaration did not reach: follow `getRotation` from it
         * through self-rotated successors, passing those voided (empty window), to the first whose
         * window is not empty. Returns that key and the number of voided keys passed.
         */
        async function firstKeyNotReached(trust, declared) {
          let current = declared;
          let passed = 0;
          for (;;) {
            const [successor, bySelf, closed] = await trust.getRotation(current);
            if (successor === ethers.ZeroAddress || !bySelf) return { key: null, passed };
            expect(closed).to.be.true; // a rotated key is closed
            const [, validFrom, validUntil] = await trust.getKey(successor);
            if (validFrom !== validUntil) return { key: successor, validFrom, passed };
            current = successor;
            passed += 1;
          }
        }

        it("voids K1..K64 only and emits KeyCompromiseWalkTruncated(K65); the last reached, K64, cannot be declared; K65, declared from its start, finishes the chain", async function () {
          this.timeout(20000);
          const { keys, starts, stolenAt } = await longChain(this);
          const max = Number(await this.trust.MAX_CASCADE());
          expect(max).to.equal(64);
          await time.increase(10);

          // the declaration of K0 voids exactly MAX_CASCADE successors, in order, then says where it
          // stopped: K65, the first key not reached
          const tx = this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, keys[0].address, stolenAt);
          await expect(tx).to.emit(this.trust, "KeyCompromised").withArgs(ISSUER_ID, keys[max].address, starts[max]);
          await expect(tx)
            .to.emit(this.trust, "KeyCompromiseWalkTruncated")
            .withArgs(ISSUER_ID, keys[max + 1].address);
          expect(await eventsOf(this.trust, tx)).to.deep.equal([
            ["KeyCompromised", ISSUER_ID, keys[0].address, stolenAt],
            ...voidedEvents(keys, starts, 1, max),
            ["KeyCompromiseWalkTruncated", ISSUER_ID, keys[max + 1].address],
          ]);
          // both of its parameters are indexed: a mirror finds it by issuer and by key
          const truncations = await this.trust.queryFilter(
            this.trust.filters.KeyCompromiseWalkTruncated(ISSUER_ID, keys[max + 1].address),
          );
          expect(truncations.map((log) => [log.transactionHash, ...log.args.toArray()])).to.deep.equal([
            [(await tx).hash, ISSUER_ID, keys[max + 1].address],
          ]);
          for (const i of [1, 2, max - 1, max]) {
            expect(await this.trust.getKey(keys[i].address)).to.deep.equal([ISSUER_ID, starts[i], starts[i]]);
          }
          // K65 is not reached: untouched, and its successor K66 is valid now
          expect(await this.trust.getKey(keys[max + 1].address)).to.deep.equal([
            ISSUER_ID,
            starts[max + 1],
            starts[max + 2] + 1n,
          ]);
          expect(await this.trust.getKey(keys[max + 2].address)).to.deep.equal([ISSUER_ID, starts[max + 2], OPEN_END]);
          const now = BigInt(await time.latest());
          expect(await this.trust.isKeyValid(ISSUER_ID, keys[max + 2].address, now)).to.be.true;

          // the last key reached, K64, has an empty window: no time is in range for declaring it
          const last = keys[max];
          for (const at of [starts[max], starts[max] + 1n]) {
            await expect(this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, last.address, at))
              .to.be.revertedWithCustomError(this.trust, "TrustRegistryCompromiseTimeOutOfRange")
              .withArgs(last.address, at, starts[max], starts[max]);
          }
          // declaring K0 again (earlier) walks through K1..K64 silently and stops at the limit again,
          // naming K65 again
          const again = this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, keys[0].address, stolenAt - 1n);
          await expect(again)
            .to.emit(this.trust, "KeyCompromiseWalkTruncated")
            .withArgs(ISSUER_ID, keys[max + 1].address);
          expect(await eventsOf(this.trust, again)).to.deep.equal([
            ["KeyCompromised", ISSUER_ID, keys[0].address, stolenAt - 1n],
            ["KeyCompromiseWalkTruncated", ISSUER_ID, keys[max + 1].address],
          ]);
          expect(await this.trust.isKeyValid(ISSUER_ID, keys[max + 2].address, now)).to.be.true;

          // the first key not reached, found with getRotation from K0: K65 (as the event said), after
          // the 64 keys voided
          const notReached = await firstKeyNotReached(this.trust, keys[0].address);
          expect(notReached.passed).to.equal(max);
          expect(notReached.key).to.equal(keys[max + 1].address);
          expect(notReached.validFrom).to.equal(starts[max + 1]);
          expect(await this.trust.getRotation(keys[max].address)).to.deep.equal([keys[max + 1].address, true, true]);
          // the KeyRotated events give the same link: K64 rotated itself to K65
          const logs = await this.trust.queryFilter(this.trust.filters.KeyRotated(ISSUER_ID, keys[max].address));
          expect(logs.map((log) => log.args.toArray())).to.deep.equal([
            [ISSUER_ID, keys[max].address, keys[max + 1].address, true],
          ]);

          // declaring it compromised from its start finishes the chain: no truncation this time
          const rest = this.trust
            .connect(this.authority)
            .declareKeyCompromised(ISSUER_ID, notReached.key, notReached.validFrom);
          await expect(rest).not.to.emit(this.trust, "KeyCompromiseWalkTruncated");
          expect(await eventsOf(this.trust, rest)).to.deep.equal(voidedEvents(keys, starts, max + 1, max + 2));
          // nothing is left: the walk from K0 passes all 66 voided keys and ends at the last, never rotated
          expect(await firstKeyNotReached(this.trust, keys[0].address)).to.deep.equal({ key: null, passed: CHAIN });
          for (let i = 1; i <= CHAIN; ++i) {
            expect(await this.trust.getKey(keys[i].address)).to.deep.equal([ISSUER_ID, starts[i], starts[i]]);
          }
          await expectVoided(this, keys[CHAIN], starts[CHAIN]);
        });

        it("exactly MAX_CASCADE (64) successors: all are voided and the walk is not truncated", async function () {
          this.timeout(20000);
          const max = Number(await this.trust.MAX_CASCADE());
          const { keys, starts, stolenAt } = await longChain(this, max);
          await time.increase(10);
          const tx = this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, keys[0].address, stolenAt);
          await expect(tx).not.to.emit(this.trust, "KeyCompromiseWalkTruncated");
          expect(await eventsOf(this.trust, tx)).to.deep.equal([
            ["KeyCompromised", ISSUER_ID, keys[0].address, stolenAt],
            ...voidedEvents(keys, starts, 1, max),
          ]);
          expect(await firstKeyNotReached(this.trust, keys[0].address)).to.deep.equal({ key: null, passed: max });
          await expectVoided(this, keys[max], starts[max]);
        });

        it("MAX_CASCADE + 1 (65) successors: truncated, the event names the last key, K65, whose declaration ends it", async function () {
          this.timeout(20000);
          const max = Number(await this.trust.MAX_CASCADE());
          const { keys, starts, stolenAt } = await longChain(this, max + 1);
          await time.increase(10);
          const tx = this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, keys[0].address, stolenAt);
          await expect(tx)
            .to.emit(this.trust, "KeyCompromiseWalkTruncated")
            .withArgs(ISSUER_ID, keys[max + 1].address);
          expect(await eventsOf(this.trust, tx)).to.deep.equal([
            ["KeyCompromised", ISSUER_ID, keys[0].address, stolenAt],
            ...voidedEvents(keys, starts, 1, max),
            ["KeyCompromiseWalkTruncated", ISSUER_ID, keys[max + 1].address],
          ]);
          // K65, the last key of the chain, is still valid now
          expect(await this.trust.getKey(keys[max + 1].address)).to.deep.equal([ISSUER_ID, starts[max + 1], OPEN_END]);
          const rest = this.trust
            .connect(this.authority)
            .declareKeyCompromised(ISSUER_ID, keys[max + 1].address, starts[max + 1]);
          await expect(rest).not.to.emit(this.trust, "KeyCompromiseWalkTruncated");
          expect(await eventsOf(this.trust, rest)).to.deep.equal(voidedEvents(keys, starts, max + 1, max + 1));
          await expectVoided(this, keys[max + 1], starts[max + 1]);
        });

        it("64 self-rotated successors, then an authority's rotation: the walk ends there, not truncated", async function () {
          this.timeout(20000);
          const max = Number(await this.trust.MAX_CASCADE());
          const { keys, starts, stolenAt } = await longChain(this, max + 1, { lastByAuthority: true });
          expect(await this.trust.getRotation(keys[max].address)).to.deep.equal([keys[max + 1].address, false, true]);
          await time.increase(10);
          const tx = this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, keys[0].address, stolenAt);
          await expect(tx).not.to.emit(this.trust, "KeyCompromiseWalkTruncated");
          expect(await eventsOf(this.trust, tx)).to.deep.equal([
            ["KeyCompromised", ISSUER_ID, keys[0].address, stolenAt],
            ...voidedEvents(keys, starts, 1, max),
          ]);
          // the key the authority created stands
          expect(await this.trust.getKey(keys[max + 1].address)).to.deep.equal([ISSUER_ID, starts[max + 1], OPEN_END]);
        });
      });
    });
  });
});
