// TrustRegistry: declaring a key compromised (its own window; see keys.compromise.cascade.test.js
// for the successors it rotated itself to).

const { ethers } = require("hardhat");
const { expect } = require("chai");
const { time } = require("@nomicfoundation/hardhat-network-helpers");

const { shouldOnlyAllowRegionAuthority } = require("../helpers/trust");
const {
  OPEN_END,
  REGION,
  accept,
  ISSUER_ID,
  deployFixture,
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

  describe("declareKeyCompromised", function () {
    beforeEach(async function () {
      await time.increase(100);
    });

    it("ends the window at the compromise time and emits KeyCompromised", async function () {
      const at = this.keyValidFrom + 10n;
      const tx = this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.key.address, at);
      await expect(tx).to.emit(this.trust, "KeyCompromised").withArgs(ISSUER_ID, this.key.address, at);
      // no successor: nothing walked, nothing truncated
      await expect(tx).not.to.emit(this.trust, "KeyCompromiseWalkTruncated");
      expect(await this.trust.getKey(this.key.address)).to.deep.equal([ISSUER_ID, this.keyValidFrom, at]);
      expect(await this.trust.isKeyValid(ISSUER_ID, this.key.address, at - 1n)).to.be.true;
      expect(await this.trust.isKeyValid(ISSUER_ID, this.key.address, at)).to.be.false;
      // the key loses its power
      await expect(this.trust.connect(this.key).retireKey(ISSUER_ID, this.key.address))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotIssuerOrAuthority")
        .withArgs(ISSUER_ID, this.key.address);
    });

    it("accepts exactly validFrom (empty window)", async function () {
      await expect(
        this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.key.address, this.keyValidFrom),
      )
        .to.emit(this.trust, "KeyCompromised")
        .withArgs(ISSUER_ID, this.key.address, this.keyValidFrom);
      expect(await this.trust.isKeyValid(ISSUER_ID, this.key.address, this.keyValidFrom)).to.be.false;
    });

    it("accepts exactly the block's time", async function () {
      const ts = await nextTimestamp();
      await expect(this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.key.address, ts))
        .to.emit(this.trust, "KeyCompromised")
        .withArgs(ISSUER_ID, this.key.address, ts);
      expect(await this.trust.getKey(this.key.address)).to.deep.equal([ISSUER_ID, this.keyValidFrom, ts]);
    });

    it("accepts a time before the end of a retired key (its last second), and an earlier time after a compromise", async function () {
      const ts = await nextTimestamp();
      await this.trust.connect(this.authority).retireKey(ISSUER_ID, this.key.address);
      expect(await this.trust.getKey(this.key.address)).to.deep.equal([ISSUER_ID, this.keyValidFrom, ts + 1n]);
      await time.increase(10);
      const asAuthority = this.trust.connect(this.authority);
      // a retired key has no successor: exactly one event each time
      for (const at of [ts, ts - 50n]) {
        const tx = asAuthority.declareKeyCompromised(ISSUER_ID, this.key.address, at);
        await expect(tx).to.emit(this.trust, "KeyCompromised").withArgs(ISSUER_ID, this.key.address, at);
        expect(await eventsOf(this.trust, tx)).to.deep.equal([["KeyCompromised", ISSUER_ID, this.key.address, at]]);
        expect(await this.trust.getKey(this.key.address)).to.deep.equal([ISSUER_ID, this.keyValidFrom, at]);
      }
    });

    it("a declaration from the block's own second stops the key at once, later in that block too", async function () {
      const t = await nextTimestamp(10n);
      const { responses, receipts } = await inOneBlock([
        (o) => this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.key.address, t, o),
        (o) => this.trust.connect(this.key).rotateKey(ISSUER_ID, this.key.address, this.newKey.address, accept(ISSUER_ID, this.newKey.address), o),
      ]);
      expect(receipts.map((r) => r.status)).to.deep.equal([1, 0]);
      expect(await eventsOf(this.trust, responses[0])).to.deep.equal([["KeyCompromised", ISSUER_ID, this.key.address, t]]);
      await expect(outcomeOf(responses[1]))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotIssuerOrAuthority")
        .withArgs(ISSUER_ID, this.key.address);
      expect(await this.trust.getKey(this.key.address)).to.deep.equal([ISSUER_ID, this.keyValidFrom, t]);
      expect(await this.trust.getKey(this.newKey.address)).to.deep.equal([ethers.ZeroHash, 0n, 0n]);
    });


    it("reverts for a time before validFrom", async function () {
      const at = this.keyValidFrom - 1n;
      await expect(this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.key.address, at))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryCompromiseTimeOutOfRange")
        .withArgs(this.key.address, at, this.keyValidFrom, OPEN_END);
    });

    it("reverts for a time in the future", async function () {
      const ts = await nextTimestamp();
      await expect(this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.key.address, ts + 1n))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryCompromiseTimeOutOfRange")
        .withArgs(this.key.address, ts + 1n, this.keyValidFrom, OPEN_END);
    });

    it("reverts for any time when the key has not started", async function () {
      const from = BigInt(await time.latest()) + 1000n;
      await this.trust.connect(this.authority).addKey(ISSUER_ID, this.newKey.address, from, OPEN_END, accept(ISSUER_ID, this.newKey.address));
      const at = BigInt(await time.latest());
      await expect(this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.newKey.address, at))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryCompromiseTimeOutOfRange")
        .withArgs(this.newKey.address, at, from, OPEN_END);
    });

    it("reverts for a time at or after the current end of the window", async function () {
      // retired at `end - 1`: the window ends after that second
      const end = (await nextTimestamp()) + 1n;
      await this.trust.connect(this.authority).retireKey(ISSUER_ID, this.key.address);
      expect(await this.trust.getKey(this.key.address)).to.deep.equal([ISSUER_ID, this.keyValidFrom, end]);
      await time.increase(100);
      for (const at of [end, end + 1n, end + 50n]) {
        await expect(this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.key.address, at))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryCompromiseTimeOutOfRange")
          .withArgs(this.key.address, at, this.keyValidFrom, end);
      }
      // a window only ever shrinks: a second compromise at a later time is refused too
      const first = this.keyValidFrom + 20n;
      await this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.key.address, first);
      await expect(
        this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.key.address, first + 1n),
      )
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryCompromiseTimeOutOfRange")
        .withArgs(this.key.address, first + 1n, this.keyValidFrom, first);
    });

    it("reverts for a key that is not a key of the issuer", async function () {
      const at = BigInt(await time.latest());
      await expect(this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.otherKey.address, at))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryUnknownKey")
        .withArgs(ISSUER_ID, this.otherKey.address);
      await expect(this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.stranger.address, at))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryUnknownKey")
        .withArgs(ISSUER_ID, this.stranger.address);
    });

    it("a valid key cannot declare itself or another key of its issuer compromised", async function () {
      const from = BigInt(await time.latest());
      await this.trust.connect(this.authority).addKey(ISSUER_ID, this.spareKey.address, from, OPEN_END, accept(ISSUER_ID, this.spareKey.address));
      for (const target of [this.key, this.spareKey]) {
        await expect(
          this.trust.connect(this.key).declareKeyCompromised(ISSUER_ID, target.address, this.keyValidFrom + 1n),
        )
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotRegionAuthority")
          .withArgs(REGION, this.key.address);
      }
    });

    shouldOnlyAllowRegionAuthority((ctx, caller, issuerId) =>
      ctx.trust.connect(caller).declareKeyCompromised(issuerId, ctx.key.address, ctx.keyValidFrom + 1n),
    );
  });
});
