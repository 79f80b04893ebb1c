// TrustRegistry: Key rotation, by the key itself or by a region authority.

const { ethers } = require("hardhat");
const { expect } = require("chai");
const { time } = require("@nomicfoundation/hardhat-network-helpers");

const { shouldOnlyAllowKeyItselfOrAuthority } = require("../helpers/trust");
const {
  OPEN_END,
  REGION,
  accept,
  ISSUER_ID,
  OTHER_ISSUER_ID,
  deployFixture,
  INVALID_KEY_KINDS,
  makeInvalidKey,
  makeBatch,
  txTimestamp,
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

  describe("rotateKey", function () {
    for (const who of ["authority", "key"]) {
      it(`ends the old window after the block's second and adds the new key from that second on (${who})`, async function () {
        const ts = await nextTimestamp(10n);
        const tx = this.trust.connect(this[who]).rotateKey(ISSUER_ID, this.key.address, this.newKey.address, accept(ISSUER_ID, this.newKey.address));
        await expect(tx).to.emit(this.trust, "KeyRetired").withArgs(ISSUER_ID, this.key.address, ts + 1n);
        await expect(tx).to.emit(this.trust, "KeyAdded").withArgs(ISSUER_ID, this.newKey.address, ts, OPEN_END);
        const bySelf = who === "key";
        await expect(tx)
          .to.emit(this.trust, "KeyRotated")
          .withArgs(ISSUER_ID, this.key.address, this.newKey.address, bySelf);
        expect(await eventsOf(this.trust, tx)).to.deep.equal([
          ["KeyRetired", ISSUER_ID, this.key.address, ts + 1n],
          ["KeyAdded", ISSUER_ID, this.newKey.address, ts, OPEN_END],
          ["KeyRotated", ISSUER_ID, this.key.address, this.newKey.address, bySelf],
        ]);
        expect(await txTimestamp(await tx)).to.equal(ts);
        // the old key is closed and names its successor; the new key is neither rotated nor closed
        expect(await this.trust.getRotation(this.key.address)).to.deep.equal([this.newKey.address, bySelf, true]);
        expect(await this.trust.getRotation(this.newKey.address)).to.deep.equal([ethers.ZeroAddress, false, false]);

        expect(await this.trust.getKey(this.key.address)).to.deep.equal([ISSUER_ID, this.keyValidFrom, ts + 1n]);
        expect(await this.trust.getKey(this.newKey.address)).to.deep.equal([ISSUER_ID, ts, OPEN_END]);
        // the old key is valid through the second of the rotation, the new one from it: both at ts
        expect(await this.trust.isKeyValid(ISSUER_ID, this.key.address, ts - 1n)).to.be.true;
        expect(await this.trust.isKeyValid(ISSUER_ID, this.key.address, ts)).to.be.true;
        expect(await this.trust.isKeyValid(ISSUER_ID, this.key.address, ts + 1n)).to.be.false;
        expect(await this.trust.isKeyValid(ISSUER_ID, this.newKey.address, ts - 1n)).to.be.false;
        expect(await this.trust.isKeyValid(ISSUER_ID, this.newKey.address, ts)).to.be.true;
        expect(await this.trust.isKeyValid(ISSUER_ID, this.newKey.address, ts + 1n)).to.be.true;
        expect(await this.trust.isKeyValid(ISSUER_ID, this.newKey.address, OPEN_END - 1n)).to.be.true;
      });
    }

    it("the old key loses its power after that second and the new key gains power over itself only", async function () {
      await this.trust.connect(this.key).rotateKey(ISSUER_ID, this.key.address, this.newKey.address, accept(ISSUER_ID, this.newKey.address));
      await expect(this.trust.connect(this.key).rotateKey(ISSUER_ID, this.key.address, this.spareKey.address, accept(ISSUER_ID, this.spareKey.address)))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotIssuerOrAuthority")
        .withArgs(ISSUER_ID, this.key.address);
      await expect(this.trust.connect(this.key).retireKey(ISSUER_ID, this.key.address))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotIssuerOrAuthority")
        .withArgs(ISSUER_ID, this.key.address);
      // the new key has no power over the key it replaced
      await expect(this.trust.connect(this.newKey).retireKey(ISSUER_ID, this.key.address))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotIssuerOrAuthority")
        .withArgs(ISSUER_ID, this.newKey.address);
      // ... but rotates itself in turn
      const ts = await nextTimestamp();
      const tx = this.trust.connect(this.newKey).rotateKey(ISSUER_ID, this.newKey.address, this.spareKey.address, accept(ISSUER_ID, this.spareKey.address));
      await expect(tx)
        .to.emit(this.trust, "KeyRotated")
        .withArgs(ISSUER_ID, this.newKey.address, this.spareKey.address, true);
      expect(await eventsOf(this.trust, tx)).to.deep.equal([
        ["KeyRetired", ISSUER_ID, this.newKey.address, ts + 1n],
        ["KeyAdded", ISSUER_ID, this.spareKey.address, ts, OPEN_END],
        ["KeyRotated", ISSUER_ID, this.newKey.address, this.spareKey.address, true],
      ]);
      expect(await this.trust.getRotation(this.key.address)).to.deep.equal([this.newKey.address, true, true]);
      expect(await this.trust.getRotation(this.newKey.address)).to.deep.equal([this.spareKey.address, true, true]);
    });

    for (const who of ["authority", "the key itself"]) {
      it(`rotates a key with a finite window before its end (${who})`, async function () {
        const from = await nextTimestamp(); // pinned: unpinned blocks follow the wall clock after a snapshot's restore
        await this.trust.connect(this.authority).addKey(ISSUER_ID, this.spareKey.address, from, from + 100n, accept(ISSUER_ID, this.spareKey.address));
        const caller = who === "authority" ? this.authority : this.spareKey;
        const ts = await nextTimestamp(50n);
        const tx = this.trust.connect(caller).rotateKey(ISSUER_ID, this.spareKey.address, this.newKey.address, accept(ISSUER_ID, this.newKey.address));
        await expect(tx).to.emit(this.trust, "KeyRetired").withArgs(ISSUER_ID, this.spareKey.address, ts + 1n);
        // the new key is open-ended, whatever the end of the old one
        await expect(tx).to.emit(this.trust, "KeyAdded").withArgs(ISSUER_ID, this.newKey.address, ts, OPEN_END);
        const bySelf = who !== "authority";
        await expect(tx)
          .to.emit(this.trust, "KeyRotated")
          .withArgs(ISSUER_ID, this.spareKey.address, this.newKey.address, bySelf);
        expect(await eventsOf(this.trust, tx)).to.deep.equal([
          ["KeyRetired", ISSUER_ID, this.spareKey.address, ts + 1n],
          ["KeyAdded", ISSUER_ID, this.newKey.address, ts, OPEN_END],
          ["KeyRotated", ISSUER_ID, this.spareKey.address, this.newKey.address, bySelf],
        ]);
        expect(await this.trust.getRotation(this.spareKey.address)).to.deep.equal([this.newKey.address, bySelf, true]);
        expect(await this.trust.getKey(this.spareKey.address)).to.deep.equal([ISSUER_ID, from, ts + 1n]);
        expect(await this.trust.getKey(this.newKey.address)).to.deep.equal([ISSUER_ID, ts, OPEN_END]);
      });
    }

    it("rotates a finite window in its last second, whose end then stays where it was", async function () {
      const from = BigInt(await time.latest());
      const until = from + 100n;
      await this.trust.connect(this.authority).addKey(ISSUER_ID, this.spareKey.address, from, until, accept(ISSUER_ID, this.spareKey.address));
      await time.setNextBlockTimestamp(until - 1n);
      const tx = this.trust.connect(this.spareKey).rotateKey(ISSUER_ID, this.spareKey.address, this.newKey.address, accept(ISSUER_ID, this.newKey.address));
      expect(await eventsOf(this.trust, tx)).to.deep.equal([
        ["KeyRetired", ISSUER_ID, this.spareKey.address, until],
        ["KeyAdded", ISSUER_ID, this.newKey.address, until - 1n, OPEN_END],
        ["KeyRotated", ISSUER_ID, this.spareKey.address, this.newKey.address, true],
      ]);
      await expect(tx)
        .to.emit(this.trust, "KeyRotated")
        .withArgs(ISSUER_ID, this.spareKey.address, this.newKey.address, true);
      expect(await this.trust.getKey(this.spareKey.address)).to.deep.equal([ISSUER_ID, from, until]);
    });

    describe("a key is rotated at most once", function () {
      const CALLERS = { key: "the key itself", authority: "an authority" };
      for (const [first, firstName] of Object.entries(CALLERS)) {
        for (const [second, secondName] of Object.entries(CALLERS)) {
          it(`${firstName} rotates it, then ${secondName} again in the same block (its window not ended): TrustRegistryKeyClosed`, async function () {
            const { trust, key, newKey, spareKey } = this;
            const t = await nextTimestamp(10n);
            const { responses, receipts, timestamp } = await inOneBlock([
              (o) => trust.connect(this[first]).rotateKey(ISSUER_ID, key.address, newKey.address, accept(ISSUER_ID, newKey.address), o),
              (o) => trust.connect(this[second]).rotateKey(ISSUER_ID, key.address, spareKey.address, accept(ISSUER_ID, spareKey.address), o),
            ]);
            expect(timestamp).to.equal(t);
            expect(receipts.map((r) => r.status)).to.deep.equal([1, 0]);
            const bySelf = first === "key";
            await expect(outcomeOf(responses[0]))
              .to.emit(trust, "KeyRetired")
              .withArgs(ISSUER_ID, key.address, t + 1n);
            await expect(outcomeOf(responses[0]))
              .to.emit(trust, "KeyRotated")
              .withArgs(ISSUER_ID, key.address, newKey.address, bySelf);
            expect(await eventsOf(trust, responses[0])).to.deep.equal([
              ["KeyRetired", ISSUER_ID, key.address, t + 1n],
              ["KeyAdded", ISSUER_ID, newKey.address, t, OPEN_END],
              ["KeyRotated", ISSUER_ID, key.address, newKey.address, bySelf],
            ]);
            // the key is still valid at t, yet cannot be rotated a second time: it is closed
            expect(await trust.isKeyValid(ISSUER_ID, key.address, t)).to.be.true;
            await expect(outcomeOf(responses[1]))
              .to.be.revertedWithCustomError(trust, "TrustRegistryKeyClosed")
              .withArgs(ISSUER_ID, key.address);
            expect(receipts[1].logs).to.have.lengthOf(0);
            expect(await trust.getKey(key.address)).to.deep.equal([ISSUER_ID, this.keyValidFrom, t + 1n]);
            expect(await trust.getKey(newKey.address)).to.deep.equal([ISSUER_ID, t, OPEN_END]);
            expect(await trust.getKey(spareKey.address)).to.deep.equal([ethers.ZeroHash, 0n, 0n]);
            // the first rotation is the one recorded
            expect(await trust.getRotation(key.address)).to.deep.equal([newKey.address, bySelf, true]);
          });
        }
      }

      it("the thief's case: a stolen key rotated to A cannot be rotated again to B in the same block", async function () {
        const { trust, registry, key } = this;
        const [a, b] = [this.newKey, this.spareKey];
        const t = await nextTimestamp(10n);
        const { responses, receipts } = await inOneBlock([
          (o) => trust.connect(key).rotateKey(ISSUER_ID, key.address, a.address, accept(ISSUER_ID, a.address), o),
          (o) => trust.connect(key).rotateKey(ISSUER_ID, key.address, b.address, accept(ISSUER_ID, b.address), o),
        ]);
        expect(receipts.map((r) => r.status)).to.deep.equal([1, 0]);
        await expect(outcomeOf(responses[0])).not.to.be.reverted;
        expect(await eventsOf(trust, responses[0])).to.deep.equal([
          ["KeyRetired", ISSUER_ID, key.address, t + 1n],
          ["KeyAdded", ISSUER_ID, a.address, t, OPEN_END],
          ["KeyRotated", ISSUER_ID, key.address, a.address, true],
        ]);
        await expect(outcomeOf(responses[1]))
          .to.be.revertedWithCustomError(trust, "TrustRegistryKeyClosed")
          .withArgs(ISSUER_ID, key.address);
        // B is no key: it can neither anchor nor rotate itself
        expect(await trust.getKey(b.address)).to.deep.equal([ethers.ZeroHash, 0n, 0n]);
        const batch = makeBatch(2, "thief B");
        await expect(registry.connect(b).anchor(batch.root, batch.digests))
          .to.be.revertedWithCustomError(registry, "LicenseRegistryUnknownKey")
          .withArgs(b.address);
        // the key has one successor only: A, valid from t on
        expect(await trust.getKey(a.address)).to.deep.equal([ISSUER_ID, t, OPEN_END]);
        expect(await trust.getRotation(key.address)).to.deep.equal([a.address, true, true]);
      });

      it("an authority cannot rotate a rotated key after its window has ended either: closed is checked first", async function () {
        await this.trust.connect(this.key).rotateKey(ISSUER_ID, this.key.address, this.newKey.address, accept(ISSUER_ID, this.newKey.address));
        const ts = await nextTimestamp();
        // closed AND its window has ended: TrustRegistryKeyClosed, not TrustRegistryKeyNotValid
        expect(await this.trust.isKeyValid(ISSUER_ID, this.key.address, ts)).to.be.false;
        await expect(this.trust.connect(this.authority).rotateKey(ISSUER_ID, this.key.address, this.spareKey.address, accept(ISSUER_ID, this.spareKey.address)))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyClosed")
          .withArgs(ISSUER_ID, this.key.address);
        expect(await this.trust.getRotation(this.key.address)).to.deep.equal([this.newKey.address, true, true]);
      });
    });

    describe("a retired key is closed: it cannot be rotated, even within its last second", function () {
      const CALLERS = { key: "the key itself", authority: "an authority" };
      for (const [first, firstName] of Object.entries(CALLERS)) {
        for (const [second, secondName] of Object.entries(CALLERS)) {
          it(`${firstName} retires it, then ${secondName} rotates it in the same block: TrustRegistryKeyClosed`, async function () {
            const { trust, key, newKey } = this;
            const t = await nextTimestamp(10n);
            const { responses, receipts, timestamp } = await inOneBlock([
              (o) => trust.connect(this[first]).retireKey(ISSUER_ID, key.address, o),
              (o) => trust.connect(this[second]).rotateKey(ISSUER_ID, key.address, newKey.address, accept(ISSUER_ID, newKey.address), o),
            ]);
            expect(timestamp).to.equal(t);
            expect(receipts.map((r) => r.status)).to.deep.equal([1, 0]);
            await expect(outcomeOf(responses[0]))
              .to.emit(trust, "KeyRetired")
              .withArgs(ISSUER_ID, key.address, t + 1n);
            expect(await eventsOf(trust, responses[0])).to.deep.equal([["KeyRetired", ISSUER_ID, key.address, t + 1n]]);
            // the key is still valid at t (the window ends at t + 1), yet the rotation is refused
            expect(await trust.isKeyValid(ISSUER_ID, key.address, t)).to.be.true;
            await expect(outcomeOf(responses[1]))
              .to.be.revertedWithCustomError(trust, "TrustRegistryKeyClosed")
              .withArgs(ISSUER_ID, key.address);
            expect(receipts[1].logs).to.have.lengthOf(0);
            expect(await trust.getKey(key.address)).to.deep.equal([ISSUER_ID, this.keyValidFrom, t + 1n]);
            expect(await trust.getKey(newKey.address)).to.deep.equal([ethers.ZeroHash, 0n, 0n]);
            expect(await trust.getRotation(key.address)).to.deep.equal([ethers.ZeroAddress, false, true]);
          });
        }
      }

      it("the thief's case: an authority retires a stolen key, the thief's self-rotation later in that block fails", async function () {
        const { trust, registry, authority, key } = this;
        const thief = this.spareKey;
        const t = await nextTimestamp(10n);
        const { responses, receipts } = await inOneBlock([
          (o) => trust.connect(authority).retireKey(ISSUER_ID, key.address, o),
          (o) => trust.connect(key).rotateKey(ISSUER_ID, key.address, thief.address, accept(ISSUER_ID, thief.address), o),
        ]);
        expect(receipts.map((r) => r.status)).to.deep.equal([1, 0]);
        await expect(outcomeOf(responses[0]))
          .to.emit(trust, "KeyRetired")
          .withArgs(ISSUER_ID, key.address, t + 1n);
        await expect(outcomeOf(responses[1]))
          .to.be.revertedWithCustomError(trust, "TrustRegistryKeyClosed")
          .withArgs(ISSUER_ID, key.address);
        expect(receipts[1].logs).to.have.lengthOf(0);
        // the thief's key is no key: it can neither anchor nor act
        expect(await trust.getKey(thief.address)).to.deep.equal([ethers.ZeroHash, 0n, 0n]);
        expect(await trust.getRotation(key.address)).to.deep.equal([ethers.ZeroAddress, false, true]);
        const batch = makeBatch(2, "thief after retirement");
        await expect(registry.connect(thief).anchor(batch.root, batch.digests))
          .to.be.revertedWithCustomError(registry, "LicenseRegistryUnknownKey")
          .withArgs(thief.address);
        // and once the second has passed the stolen key can do nothing either, nor the authority with it
        await expect(trust.connect(key).rotateKey(ISSUER_ID, key.address, thief.address, accept(ISSUER_ID, thief.address)))
          .to.be.revertedWithCustomError(trust, "TrustRegistryNotIssuerOrAuthority")
          .withArgs(ISSUER_ID, key.address);
        await expect(trust.connect(authority).rotateKey(ISSUER_ID, key.address, thief.address, accept(ISSUER_ID, thief.address)))
          .to.be.revertedWithCustomError(trust, "TrustRegistryKeyClosed")
          .withArgs(ISSUER_ID, key.address);
      });
    });

    for (const kind of INVALID_KEY_KINDS.filter((k) => k !== "a retired key")) {
      it(`reverts with TrustRegistryKeyNotValid for ${kind}, which is not closed (authority)`, async function () {
        const oldKey = await makeInvalidKey(this, kind);
        expect((await this.trust.getRotation(oldKey.address)).closed).to.be.false;
        const before = await this.trust.getKey(oldKey.address);
        const ts = await nextTimestamp();
        await expect(this.trust.connect(this.authority).rotateKey(ISSUER_ID, oldKey.address, this.newKey.address, accept(ISSUER_ID, this.newKey.address)))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyNotValid")
          .withArgs(ISSUER_ID, oldKey.address, ts);
        expect(await this.trust.getKey(oldKey.address)).to.deep.equal(before);
        expect(await this.trust.getKey(this.newKey.address)).to.deep.equal([ethers.ZeroHash, 0n, 0n]);
      });
    }

    it("reverts with TrustRegistryKeyClosed for a retired key, once its last second has passed (authority)", async function () {
      const oldKey = await makeInvalidKey(this, "a retired key");
      const before = await this.trust.getKey(oldKey.address);
      expect(await this.trust.getRotation(oldKey.address)).to.deep.equal([ethers.ZeroAddress, false, true]);
      await expect(this.trust.connect(this.authority).rotateKey(ISSUER_ID, oldKey.address, this.newKey.address, accept(ISSUER_ID, this.newKey.address)))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyClosed")
        .withArgs(ISSUER_ID, oldKey.address);
      expect(await this.trust.getKey(oldKey.address)).to.deep.equal(before);
      expect(await this.trust.getKey(this.newKey.address)).to.deep.equal([ethers.ZeroHash, 0n, 0n]);
    });

    it("a closed old key is refused before the new key is looked at (zero, an authority, a key in use)", async function () {
      await this.trust.connect(this.authority).rotateKey(ISSUER_ID, this.key.address, this.newKey.address, accept(ISSUER_ID, this.newKey.address));
      for (const target of [ethers.ZeroAddress, this.authority.address, this.otherKey.address, this.newKey.address]) {
        await expect(this.trust.connect(this.authority).rotateKey(ISSUER_ID, this.key.address, target, accept(ISSUER_ID, target)))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyClosed")
          .withArgs(ISSUER_ID, this.key.address);
      }
      // and so is an old key not valid now (not closed): its window is checked before the new key too
      const expired = await makeInvalidKey(this, "an expired key");
      const ts = await nextTimestamp();
      await expect(this.trust.connect(this.authority).rotateKey(ISSUER_ID, expired.address, this.authority.address, accept(ISSUER_ID, this.authority.address)))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyNotValid")
        .withArgs(ISSUER_ID, expired.address, ts);
    });

    it("reverts at exactly the end of the old key's window", async function () {
      const from = BigInt(await time.latest());
      await this.trust.connect(this.authority).addKey(ISSUER_ID, this.spareKey.address, from, from + 100n, accept(ISSUER_ID, this.spareKey.address));
      await time.setNextBlockTimestamp(from + 100n);
      await expect(this.trust.connect(this.authority).rotateKey(ISSUER_ID, this.spareKey.address, this.newKey.address, accept(ISSUER_ID, this.newKey.address)))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyNotValid")
        .withArgs(ISSUER_ID, this.spareKey.address, from + 100n);
    });

    it("reverts for an old key that is not a key of the issuer (authority)", async function () {
      await expect(this.trust.connect(this.authority).rotateKey(ISSUER_ID, this.otherKey.address, this.newKey.address, accept(ISSUER_ID, this.newKey.address)))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryUnknownKey")
        .withArgs(ISSUER_ID, this.otherKey.address);
      await expect(this.trust.connect(this.authority).rotateKey(ISSUER_ID, this.stranger.address, this.newKey.address, accept(ISSUER_ID, this.newKey.address)))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryUnknownKey")
        .withArgs(ISSUER_ID, this.stranger.address);
    });

    for (const who of ["authority", "key"]) {
      it(`reverts for the zero new key, leaving the old key untouched (${who})`, async function () {
        await expect(
          this.trust.connect(this[who]).rotateKey(ISSUER_ID, this.key.address, ethers.ZeroAddress, accept(ISSUER_ID, ethers.ZeroAddress)),
        ).to.be.revertedWithCustomError(this.trust, "TrustRegistryZeroAddress");
        expect(await this.trust.getKey(this.key.address)).to.deep.equal([ISSUER_ID, this.keyValidFrom, OPEN_END]);
        // a failed rotation does not close the key: it can still be rotated
        expect(await this.trust.getRotation(this.key.address)).to.deep.equal([ethers.ZeroAddress, false, false]);
        await expect(this.trust.connect(this[who]).rotateKey(ISSUER_ID, this.key.address, this.newKey.address, accept(ISSUER_ID, this.newKey.address)))
          .to.emit(this.trust, "KeyRotated")
          .withArgs(ISSUER_ID, this.key.address, this.newKey.address, who === "key");
      });

      it(`reverts for a new key already in use (another issuer's, the old key itself) (${who})`, async function () {
        const caller = this[who];
        await expect(this.trust.connect(caller).rotateKey(ISSUER_ID, this.key.address, this.otherKey.address, accept(ISSUER_ID, this.otherKey.address)))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyInUse")
          .withArgs(this.otherKey.address, OTHER_ISSUER_ID);
        await expect(this.trust.connect(caller).rotateKey(ISSUER_ID, this.key.address, this.key.address, accept(ISSUER_ID, this.key.address)))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyInUse")
          .withArgs(this.key.address, ISSUER_ID);
        expect(await this.trust.getKey(this.key.address)).to.deep.equal([ISSUER_ID, this.keyValidFrom, OPEN_END]);
      });

      it(`reverts with TrustRegistryKeyIsAuthority for a new key that is an authority of the issuer's region, leaving the old key open (${who})`, async function () {
        const caller = this[who];
        const second = this.accounts[0];
        await this.trust.connect(this.admin).addRegionAuthority(REGION, second.address);
        for (const account of [this.authority, second]) {
          await expect(this.trust.connect(caller).rotateKey(ISSUER_ID, this.key.address, account.address, accept(ISSUER_ID, account.address)))
            .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyIsAuthority")
            .withArgs(ISSUER_ID, account.address);
          expect(await this.trust.getKey(account.address)).to.deep.equal([ethers.ZeroHash, 0n, 0n]);
        }
        // before TrustRegistryKeyInUse: a key of another issuer made an authority of the region
        await this.trust.connect(this.admin).addRegionAuthority(REGION, this.otherKey.address);
        await expect(this.trust.connect(caller).rotateKey(ISSUER_ID, this.key.address, this.otherKey.address, accept(ISSUER_ID, this.otherKey.address)))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyIsAuthority")
          .withArgs(ISSUER_ID, this.otherKey.address);
        // the old key is untouched and not closed: it can still be rotated
        expect(await this.trust.getKey(this.key.address)).to.deep.equal([ISSUER_ID, this.keyValidFrom, OPEN_END]);
        expect(await this.trust.getRotation(this.key.address)).to.deep.equal([ethers.ZeroAddress, false, false]);
        await expect(this.trust.connect(caller).rotateKey(ISSUER_ID, this.key.address, this.newKey.address, accept(ISSUER_ID, this.newKey.address)))
          .to.emit(this.trust, "KeyRotated")
          .withArgs(ISSUER_ID, this.key.address, this.newKey.address, who === "key");
      });

      it(`rotates to an authority of another region (${who})`, async function () {
        const ts = await nextTimestamp();
        const tx = this.trust.connect(this[who]).rotateKey(ISSUER_ID, this.key.address, this.otherAuthority.address, accept(ISSUER_ID, this.otherAuthority.address));
        expect(await eventsOf(this.trust, tx)).to.deep.equal([
          ["KeyRetired", ISSUER_ID, this.key.address, ts + 1n],
          ["KeyAdded", ISSUER_ID, this.otherAuthority.address, ts, OPEN_END],
          ["KeyRotated", ISSUER_ID, this.key.address, this.otherAuthority.address, who === "key"],
        ]);
        await expect(tx)
          .to.emit(this.trust, "KeyRotated")
          .withArgs(ISSUER_ID, this.key.address, this.otherAuthority.address, who === "key");
      });
    }

    shouldOnlyAllowKeyItselfOrAuthority((ctx, caller, issuerId, key) =>
      ctx.trust.connect(caller).rotateKey(issuerId, key.address, ctx.newKey.address, accept(issuerId, ctx.newKey.address)),
    );
  });
});
