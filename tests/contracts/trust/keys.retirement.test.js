// TrustRegistry: Key retirement, and a closed (rotated or retired) key refused before a key outside its window.

const { ethers } = require("hardhat");
const { expect } = require("chai");
const { time } = require("@nomicfoundation/hardhat-network-helpers");

const { shouldOnlyAllowKeyItselfOrAuthority } = require("../helpers/trust");
const {
  OPEN_END,
  accept,
  ISSUER_ID,
  OTHER_ISSUER_ID,
  deployFixture,
  makeInvalidKey,
  eventsOf,
  nextTimestamp,
  inOneBlock,
  outcomeOf,
  loadFixtureNow,
} = require("../helpers");

describe("TrustRegistry", function () {
  beforeEach(async function () {
    Object.assign(this, await loadFixtureNow(deployFixture));
  });

  describe("retireKey", function () {
    for (const who of ["authority", "key"]) {
      it(`ends the window after the block's second and emits KeyRetired (${who})`, async function () {
        const ts = await nextTimestamp(10n);
        const tx = this.trust.connect(this[who]).retireKey(ISSUER_ID, this.key.address);
        await expect(tx).to.emit(this.trust, "KeyRetired").withArgs(ISSUER_ID, this.key.address, ts + 1n);
        expect(await eventsOf(this.trust, tx)).to.deep.equal([["KeyRetired", ISSUER_ID, this.key.address, ts + 1n]]);
        expect(await this.trust.getKey(this.key.address)).to.deep.equal([ISSUER_ID, this.keyValidFrom, ts + 1n]);
        expect(await this.trust.isKeyValid(ISSUER_ID, this.key.address, ts - 1n)).to.be.true;
        expect(await this.trust.isKeyValid(ISSUER_ID, this.key.address, ts)).to.be.true;
        expect(await this.trust.isKeyValid(ISSUER_ID, this.key.address, ts + 1n)).to.be.false;
        // closed, with no successor
        expect(await this.trust.getRotation(this.key.address)).to.deep.equal([ethers.ZeroAddress, false, true]);
      });
    }

    describe("a key is closed once retired or rotated: it cannot be retired, even within its last second", function () {
      const CALLERS = { key: "the key itself", authority: "an authority" };
      for (const [firstAction, action] of [
        ["retires", (ctx, caller, o) => ctx.trust.connect(caller).retireKey(ISSUER_ID, ctx.key.address, o)],
        ["rotates", (ctx, caller, o) => ctx.trust.connect(caller).rotateKey(ISSUER_ID, ctx.key.address, ctx.newKey.address, accept(ISSUER_ID, ctx.newKey.address), o)],
      ]) {
        for (const [first, firstName] of Object.entries(CALLERS)) {
          for (const [second, secondName] of Object.entries(CALLERS)) {
            it(`${firstName} ${firstAction} it, then ${secondName} retires it in the same block: TrustRegistryKeyClosed`, async function () {
              const { trust, key, newKey } = this;
              const t = await nextTimestamp(10n);
              const { responses, receipts, timestamp } = await inOneBlock([
                (o) => action(this, this[first], o),
                (o) => trust.connect(this[second]).retireKey(ISSUER_ID, key.address, o),
              ]);
              expect(timestamp).to.equal(t);
              expect(receipts.map((r) => r.status)).to.deep.equal([1, 0]);
              const bySelf = first === "key";
              const expected =
                firstAction === "retires"
                  ? [["KeyRetired", ISSUER_ID, key.address, t + 1n]]
                  : [
                      ["KeyRetired", ISSUER_ID, key.address, t + 1n],
                      ["KeyAdded", ISSUER_ID, newKey.address, t, OPEN_END],
                      ["KeyRotated", ISSUER_ID, key.address, newKey.address, bySelf],
                    ];
              expect(await eventsOf(trust, responses[0])).to.deep.equal(expected);
              // valid at t, yet a second retirement is refused (it was a silent no-op before)
              expect(await trust.isKeyValid(ISSUER_ID, key.address, t)).to.be.true;
              await expect(outcomeOf(responses[1]))
                .to.be.revertedWithCustomError(trust, "TrustRegistryKeyClosed")
                .withArgs(ISSUER_ID, key.address);
              expect(receipts[1].logs).to.have.lengthOf(0);
              expect(await trust.getKey(key.address)).to.deep.equal([ISSUER_ID, this.keyValidFrom, t + 1n]);
              expect(await trust.getRotation(key.address)).to.deep.equal(
                firstAction === "retires" ? [ethers.ZeroAddress, false, true] : [newKey.address, bySelf, true],
              );
            });
          }
        }
      }

      it("a key retired before its start (empty window) cannot be retired again", async function () {
        const from = BigInt(await time.latest()) + 1000n;
        await this.trust.connect(this.authority).addKey(ISSUER_ID, this.newKey.address, from, OPEN_END, accept(ISSUER_ID, this.newKey.address));
        await expect(this.trust.connect(this.authority).retireKey(ISSUER_ID, this.newKey.address))
          .to.emit(this.trust, "KeyRetired")
          .withArgs(ISSUER_ID, this.newKey.address, from);
        expect(await this.trust.getRotation(this.newKey.address)).to.deep.equal([ethers.ZeroAddress, false, true]);
        // its window [from, from) still ends after now, but the key is closed
        await expect(this.trust.connect(this.authority).retireKey(ISSUER_ID, this.newKey.address))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyClosed")
          .withArgs(ISSUER_ID, this.newKey.address);
        // nor rotated
        await expect(this.trust.connect(this.authority).rotateKey(ISSUER_ID, this.newKey.address, this.spareKey.address, accept(ISSUER_ID, this.spareKey.address)))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyClosed")
          .withArgs(ISSUER_ID, this.newKey.address);
        expect(await this.trust.getKey(this.newKey.address)).to.deep.equal([ISSUER_ID, from, from]);
      });
    });

    it("a key that retired itself loses its power", async function () {
      await this.trust.connect(this.key).retireKey(ISSUER_ID, this.key.address);
      await expect(this.trust.connect(this.key).retireKey(ISSUER_ID, this.key.address))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotIssuerOrAuthority")
        .withArgs(ISSUER_ID, this.key.address);
      await expect(this.trust.connect(this.key).rotateKey(ISSUER_ID, this.key.address, this.newKey.address, accept(ISSUER_ID, this.newKey.address)))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotIssuerOrAuthority")
        .withArgs(ISSUER_ID, this.key.address);
    });

    it("ends a key that has not started at its validFrom (empty window)", async function () {
      const from = BigInt(await time.latest()) + 1000n;
      await this.trust.connect(this.authority).addKey(ISSUER_ID, this.newKey.address, from, OPEN_END, accept(ISSUER_ID, this.newKey.address));
      const tx = this.trust.connect(this.authority).retireKey(ISSUER_ID, this.newKey.address);
      await expect(tx).to.emit(this.trust, "KeyRetired").withArgs(ISSUER_ID, this.newKey.address, from);
      expect(await eventsOf(this.trust, tx)).to.deep.equal([["KeyRetired", ISSUER_ID, this.newKey.address, from]]);
      expect(await this.trust.getKey(this.newKey.address)).to.deep.equal([ISSUER_ID, from, from]);
      for (const at of [from - 1n, from, from + 1n]) {
        expect(await this.trust.isKeyValid(ISSUER_ID, this.newKey.address, at)).to.be.false;
      }
      await time.increaseTo(from);
      await expect(this.trust.connect(this.newKey).retireKey(ISSUER_ID, this.newKey.address))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotIssuerOrAuthority")
        .withArgs(ISSUER_ID, this.newKey.address);
    });

    it("retiring in the second before a key starts empties its window; in the second it starts keeps that second", async function () {
      const [starting, later] = [this.newKey, this.spareKey];
      const ts = (await nextTimestamp()) + 10n;
      await this.trust.connect(this.authority).addKey(ISSUER_ID, starting.address, ts, OPEN_END, accept(ISSUER_ID, starting.address));
      await nextTimestamp();
      await this.trust.connect(this.authority).addKey(ISSUER_ID, later.address, ts + 1n, OPEN_END, accept(ISSUER_ID, later.address));
      const { responses } = await inOneBlock(
        [
          (o) => this.trust.connect(this.authority).retireKey(ISSUER_ID, starting.address, o),
          (o) => this.trust.connect(this.authority).retireKey(ISSUER_ID, later.address, o),
        ],
        ts,
      );
      expect(await eventsOf(this.trust, responses[0])).to.deep.equal([["KeyRetired", ISSUER_ID, starting.address, ts + 1n]]);
      expect(await eventsOf(this.trust, responses[1])).to.deep.equal([["KeyRetired", ISSUER_ID, later.address, ts + 1n]]);
      expect(await this.trust.getKey(starting.address)).to.deep.equal([ISSUER_ID, ts, ts + 1n]);
      expect(await this.trust.getKey(later.address)).to.deep.equal([ISSUER_ID, ts + 1n, ts + 1n]);
      expect(await this.trust.isKeyValid(ISSUER_ID, starting.address, ts)).to.be.true;
      expect(await this.trust.isKeyValid(ISSUER_ID, later.address, ts + 1n)).to.be.false;
    });

    for (const who of ["authority", "the key itself"]) {
      it(`ends a key with a finite window early (${who})`, async function () {
        const from = BigInt(await time.latest());
        await this.trust.connect(this.authority).addKey(ISSUER_ID, this.newKey.address, from, from + 1000n, accept(ISSUER_ID, this.newKey.address));
        const caller = who === "authority" ? this.authority : this.newKey;
        const ts = await nextTimestamp(10n);
        await expect(this.trust.connect(caller).retireKey(ISSUER_ID, this.newKey.address))
          .to.emit(this.trust, "KeyRetired")
          .withArgs(ISSUER_ID, this.newKey.address, ts + 1n);
        expect(await this.trust.getKey(this.newKey.address)).to.deep.equal([ISSUER_ID, from, ts + 1n]);
      });
    }

    for (const kind of ["an expired key", "a compromised key"]) {
      it(`reverts with TrustRegistryKeyNotValid for ${kind}, which is not closed (authority)`, async function () {
        const target = await makeInvalidKey(this, kind);
        expect((await this.trust.getRotation(target.address)).closed).to.be.false;
        const before = await this.trust.getKey(target.address);
        const ts = await nextTimestamp();
        await expect(this.trust.connect(this.authority).retireKey(ISSUER_ID, target.address))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyNotValid")
          .withArgs(ISSUER_ID, target.address, ts);
        expect(await this.trust.getKey(target.address)).to.deep.equal(before);
      });
    }

    it("reverts with TrustRegistryKeyClosed for a retired key, once its last second has passed (authority)", async function () {
      const target = await makeInvalidKey(this, "a retired key");
      const before = await this.trust.getKey(target.address);
      // closed AND its window has ended: closed is checked first
      expect(await this.trust.isKeyValid(ISSUER_ID, target.address, BigInt(await time.latest()) + 1n)).to.be.false;
      await expect(this.trust.connect(this.authority).retireKey(ISSUER_ID, target.address))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyClosed")
        .withArgs(ISSUER_ID, target.address);
      expect(await this.trust.getKey(target.address)).to.deep.equal(before);
    });

    it("reverts at exactly the end of the key's window", async function () {
      const from = BigInt(await time.latest());
      await this.trust.connect(this.authority).addKey(ISSUER_ID, this.newKey.address, from, from + 100n, accept(ISSUER_ID, this.newKey.address));
      await time.setNextBlockTimestamp(from + 100n);
      await expect(this.trust.connect(this.authority).retireKey(ISSUER_ID, this.newKey.address))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyNotValid")
        .withArgs(ISSUER_ID, this.newKey.address, from + 100n);
    });

    it("reverts for a key that is not a key of the issuer (authority)", async function () {
      await expect(this.trust.connect(this.authority).retireKey(ISSUER_ID, this.otherKey.address))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryUnknownKey")
        .withArgs(ISSUER_ID, this.otherKey.address);
      await expect(this.trust.connect(this.authority).retireKey(ISSUER_ID, this.stranger.address))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryUnknownKey")
        .withArgs(ISSUER_ID, this.stranger.address);
    });

    shouldOnlyAllowKeyItselfOrAuthority((ctx, caller, issuerId, key) =>
      ctx.trust.connect(caller).retireKey(issuerId, key.address),
    );
  });

  describe("TrustRegistryKeyClosed (rotated or retired) before TrustRegistryKeyNotValid (window not containing now)", function () {
    /**
     * Each state of a key of ISSUER_ID, once its last second (if any) has passed: `setup(ctx)` puts
     * a key in it and returns that key; `closed` says whether it was rotated or retired (then both
     * rotateKey and retireKey revert with TrustRegistryKeyClosed, whatever its window), otherwise
     * `rotate` / `retire` name the outcome: "notValid" (TrustRegistryKeyNotValid) or "ok".
     */
    const STATES = [
      {
        name: "rotated by itself",
        closed: true,
        setup: async (ctx) => {
          await ctx.trust.connect(ctx.key).rotateKey(ISSUER_ID, ctx.key.address, ctx.newKey.address, accept(ISSUER_ID, ctx.newKey.address));
          return ctx.key;
        },
      },
      {
        name: "rotated by an authority",
        closed: true,
        setup: async (ctx) => {
          await ctx.trust.connect(ctx.authority).rotateKey(ISSUER_ID, ctx.key.address, ctx.newKey.address, accept(ISSUER_ID, ctx.newKey.address));
          return ctx.key;
        },
      },
      {
        name: "retired (its window ended)",
        closed: true,
        setup: async (ctx) => {
          await ctx.trust.connect(ctx.key).retireKey(ISSUER_ID, ctx.key.address);
          return ctx.key;
        },
      },
      {
        name: "retired before its start (empty window ending in the future)",
        closed: true,
        setup: async (ctx) => {
          const from = BigInt(await time.latest()) + 1000n;
          await ctx.trust.connect(ctx.authority).addKey(ISSUER_ID, ctx.spareKey.address, from, OPEN_END, accept(ISSUER_ID, ctx.spareKey.address));
          await ctx.trust.connect(ctx.authority).retireKey(ISSUER_ID, ctx.spareKey.address);
          return ctx.spareKey;
        },
      },
      {
        name: "rotated by itself, then declared compromised",
        closed: true,
        setup: async (ctx) => {
          await ctx.trust.connect(ctx.key).rotateKey(ISSUER_ID, ctx.key.address, ctx.newKey.address, accept(ISSUER_ID, ctx.newKey.address));
          await time.increase(10);
          await ctx.trust.connect(ctx.authority).declareKeyCompromised(ISSUER_ID, ctx.key.address, ctx.keyValidFrom);
          return ctx.key;
        },
      },
      {
        name: "retired, then declared compromised",
        closed: true,
        setup: async (ctx) => {
          await ctx.trust.connect(ctx.authority).retireKey(ISSUER_ID, ctx.key.address);
          await time.increase(10);
          await ctx.trust.connect(ctx.authority).declareKeyCompromised(ISSUER_ID, ctx.key.address, ctx.keyValidFrom);
          return ctx.key;
        },
      },
      {
        name: "a self-rotated successor voided by a compromise, that had rotated itself in turn",
        closed: true,
        setup: async (ctx) => {
          await ctx.trust.connect(ctx.key).rotateKey(ISSUER_ID, ctx.key.address, ctx.newKey.address, accept(ISSUER_ID, ctx.newKey.address));
          await ctx.trust.connect(ctx.newKey).rotateKey(ISSUER_ID, ctx.newKey.address, ctx.spareKey.address, accept(ISSUER_ID, ctx.spareKey.address));
          await time.increase(10);
          await ctx.trust.connect(ctx.authority).declareKeyCompromised(ISSUER_ID, ctx.key.address, ctx.keyValidFrom);
          return ctx.newKey;
        },
      },
      { name: "expired", closed: false, rotate: "notValid", retire: "notValid", setup: (ctx) => makeInvalidKey(ctx, "an expired key") },
      { name: "compromised", closed: false, rotate: "notValid", retire: "notValid", setup: (ctx) => makeInvalidKey(ctx, "a compromised key") },
      {
        name: "a self-rotated successor voided by a compromise (empty window, never rotated)",
        closed: false,
        rotate: "notValid",
        retire: "notValid",
        setup: async (ctx) => {
          await ctx.trust.connect(ctx.key).rotateKey(ISSUER_ID, ctx.key.address, ctx.newKey.address, accept(ISSUER_ID, ctx.newKey.address));
          await time.increase(10);
          await ctx.trust.connect(ctx.authority).declareKeyCompromised(ISSUER_ID, ctx.key.address, ctx.keyValidFrom);
          return ctx.newKey;
        },
      },
      // not started yet: cannot be rotated, but can be retired (its window becomes empty)
      { name: "not valid yet", closed: false, rotate: "notValid", retire: "ok", setup: (ctx) => makeInvalidKey(ctx, "a key not valid yet") },
    ];

    for (const state of STATES) {
      it(`a key ${state.name}: ${state.closed ? "TrustRegistryKeyClosed for both" : `rotateKey ${state.rotate}, retireKey ${state.retire}`}`, async function () {
        const target = await state.setup(this);
        await time.increase(1); // past any last second
        const [, , closed] = await this.trust.getRotation(target.address);
        expect(closed).to.equal(state.closed);
        const before = await this.trust.getKey(target.address);
        const rotation = await this.trust.getRotation(target.address);
        const successor = this.accounts[0].address;
        const asAuthority = this.trust.connect(this.authority);
        for (const [action, send] of [
          ["rotate", () => asAuthority.rotateKey(ISSUER_ID, target.address, successor, accept(ISSUER_ID, successor))],
          ["retire", () => asAuthority.retireKey(ISSUER_ID, target.address)],
        ]) {
          const outcome = state.closed ? "closed" : state[action];
          if (outcome === "ok") continue;
          if (outcome === "closed") {
            await expect(send())
              .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyClosed")
              .withArgs(ISSUER_ID, target.address);
          } else {
            const ts = await nextTimestamp();
            expect(await this.trust.isKeyValid(ISSUER_ID, target.address, ts)).to.be.false;
            await expect(send())
              .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyNotValid")
              .withArgs(ISSUER_ID, target.address, ts);
          }
        }
        expect(await this.trust.getKey(target.address)).to.deep.equal(before);
        expect(await this.trust.getRotation(target.address)).to.deep.equal(rotation);
        expect(await this.trust.getKey(successor)).to.deep.equal([ethers.ZeroHash, 0n, 0n]);
        if (state.retire === "ok") {
          await expect(asAuthority.retireKey(ISSUER_ID, target.address)).to.emit(this.trust, "KeyRetired");
          // now it is closed
          await expect(asAuthority.retireKey(ISSUER_ID, target.address))
            .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyClosed")
            .withArgs(ISSUER_ID, target.address);
        }
      });
    }

    it("the key is looked up first: a closed key named under another issuer is TrustRegistryUnknownKey", async function () {
      await this.trust.connect(this.otherKey).retireKey(OTHER_ISSUER_ID, this.otherKey.address);
      expect((await this.trust.getRotation(this.otherKey.address)).closed).to.be.true;
      for (const send of [
        () => this.trust.connect(this.authority).retireKey(ISSUER_ID, this.otherKey.address),
        () => this.trust.connect(this.authority).rotateKey(ISSUER_ID, this.otherKey.address, this.newKey.address, accept(ISSUER_ID, this.newKey.address)),
      ]) {
        await expect(send())
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryUnknownKey")
          .withArgs(ISSUER_ID, this.otherKey.address);
      }
      // under its own issuer, by that issuer's authority: closed
      await expect(this.trust.connect(this.otherAuthority).retireKey(OTHER_ISSUER_ID, this.otherKey.address))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyClosed")
        .withArgs(OTHER_ISSUER_ID, this.otherKey.address);
    });

    it("access is checked first: a closed key acting on itself after its last second is TrustRegistryNotIssuerOrAuthority", async function () {
      await this.trust.connect(this.key).rotateKey(ISSUER_ID, this.key.address, this.newKey.address, accept(ISSUER_ID, this.newKey.address));
      for (const send of [
        () => this.trust.connect(this.key).retireKey(ISSUER_ID, this.key.address),
        () => this.trust.connect(this.key).rotateKey(ISSUER_ID, this.key.address, this.spareKey.address, accept(ISSUER_ID, this.spareKey.address)),
      ]) {
        await expect(send())
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotIssuerOrAuthority")
          .withArgs(ISSUER_ID, this.key.address);
      }
    });
  });
});
