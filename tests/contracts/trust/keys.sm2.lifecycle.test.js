// TrustRegistry and LicenseRegistry: the life of a key bound to SM2. rotateSm2Key (rotateKey's rules,
// the new key bound to SM2), joining and leaving the SM2 suite by rotation, retirement and
// compromise (with its cascade) acting on the account and so on its SM2 key, and anchoring by an
// SM2-bound account inside its window only.

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
  eventsOf,
  makeBatch,
  nextTimestamp,
  loadFixtureNow,
} = require("../helpers");
const { makeSm2Key, sm2Registration, sm2Accept, boundArgs, word } = require("../helpers/sm2");

describe("TrustRegistry", function () {
  beforeEach(async function () {
    Object.assign(this, await loadFixtureNow(deployFixture));
  });

  /** rotateSm2Key by `caller` from `oldKey` to `newKey` (accounts), with a fresh registration unless given. */
  function rotateSm2(ctx, caller, oldKey, newKey, { issuerId = ISSUER_ID, registration, acceptance } = {}) {
    const sm2 = registration || sm2Registration(issuerId, newKey.address).registration;
    const signature = acceptance === undefined ? sm2Accept(issuerId, newKey.address, sm2) : acceptance;
    return ctx.trust.connect(caller).rotateSm2Key(issuerId, oldKey.address, newKey.address, sm2, signature);
  }

  /** Bind `account` to a fresh SM2 key as a key of ISSUER_ID valid from now (by the authority). */
  async function addSm2(ctx, account, { from, until = OPEN_END } = {}) {
    const { registration, keyHash } = sm2Registration(ISSUER_ID, account.address);
    const validFrom = from === undefined ? BigInt(await time.latest()) : from;
    await ctx.trust
      .connect(ctx.authority)
      .addSm2Key(ISSUER_ID, account.address, registration, validFrom, until, sm2Accept(ISSUER_ID, account.address, registration));
    return { registration, keyHash, validFrom };
  }

  describe("rotateSm2Key", function () {
    for (const who of ["authority", "key"]) {
      it(`${who === "key" ? "the key itself" : "an authority"} rotates a plain key to an SM2-bound key (joining the suite): events in order`, async function () {
        const { registration, keyHash } = sm2Registration(ISSUER_ID, this.newKey.address);
        const ts = await nextTimestamp();
        const tx = rotateSm2(this, this[who], this.key, this.newKey, { registration });
        expect(await eventsOf(this.trust, tx)).to.deep.equal([
          ["KeyRetired", ISSUER_ID, this.key.address, ts + 1n],
          ["KeyAdded", ISSUER_ID, this.newKey.address, ts, OPEN_END],
          ["Sm2KeyBound", ISSUER_ID, this.newKey.address, ...boundArgs(registration)],
          ["KeyRotated", ISSUER_ID, this.key.address, this.newKey.address, who === "key"],
        ]);
        expect(await this.trust.getRotation(this.key.address)).to.deep.equal([this.newKey.address, who === "key", true]);
        expect(await this.trust.getKey(this.key.address)).to.deep.equal([ISSUER_ID, this.keyValidFrom, ts + 1n]);
        expect(await this.trust.getKey(this.newKey.address)).to.deep.equal([ISSUER_ID, ts, OPEN_END]);
        expect(await this.trust.getSm2Key(this.newKey.address)).to.equal(keyHash);
        expect(await this.trust.getSm2Key(this.key.address)).to.equal(ethers.ZeroHash);
      });
    }

    it("an SM2-bound key rotates itself to another SM2 key, with .to.emit ... withArgs", async function () {
      const first = await addSm2(this, this.newKey);
      const { registration, keyHash } = sm2Registration(ISSUER_ID, this.spareKey.address);
      const ts = await nextTimestamp();
      await expect(rotateSm2(this, this.newKey, this.newKey, this.spareKey, { registration }))
        .to.emit(this.trust, "KeyRetired")
        .withArgs(ISSUER_ID, this.newKey.address, ts + 1n)
        .and.to.emit(this.trust, "KeyAdded")
        .withArgs(ISSUER_ID, this.spareKey.address, ts, OPEN_END)
        .and.to.emit(this.trust, "Sm2KeyBound")
        .withArgs(ISSUER_ID, this.spareKey.address, ...boundArgs(registration))
        .and.to.emit(this.trust, "KeyRotated")
        .withArgs(ISSUER_ID, this.newKey.address, this.spareKey.address, true);
      // the old binding stays on record (its window ended); the new one is the successor's
      expect(await this.trust.getSm2Key(this.newKey.address)).to.equal(first.keyHash);
      expect(await this.trust.getSm2Key(this.spareKey.address)).to.equal(keyHash);
    });

    it("a plain rotateKey from an SM2-bound key to a plain key is allowed (leaving the suite)", async function () {
      const bound = await addSm2(this, this.newKey);
      const ts = await nextTimestamp();
      const tx = this.trust.connect(this.newKey).rotateKey(ISSUER_ID, this.newKey.address, this.spareKey.address, accept(ISSUER_ID, this.spareKey.address));
      expect(await eventsOf(this.trust, tx)).to.deep.equal([
        ["KeyRetired", ISSUER_ID, this.newKey.address, ts + 1n],
        ["KeyAdded", ISSUER_ID, this.spareKey.address, ts, OPEN_END],
        ["KeyRotated", ISSUER_ID, this.newKey.address, this.spareKey.address, true],
      ]);
      expect(await this.trust.getSm2Key(this.spareKey.address)).to.equal(ethers.ZeroHash);
      expect(await this.trust.getSm2Key(this.newKey.address)).to.equal(bound.keyHash);
    });

    shouldOnlyAllowKeyItselfOrAuthority((ctx, caller, issuerId, key) => rotateSm2(ctx, caller, key, ctx.newKey, { issuerId }));

    it("an SM2-bound key may rotate only itself, not another key of its issuer; another region's authority may not", async function () {
      await addSm2(this, this.spareKey);
      const { registration } = sm2Registration(ISSUER_ID, this.newKey.address);
      for (const [caller, oldKey] of [[this.spareKey, this.key], [this.key, this.spareKey], [this.otherAuthority, this.spareKey]]) {
        await expect(rotateSm2(this, caller, oldKey, this.newKey, { registration }))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotIssuerOrAuthority")
          .withArgs(ISSUER_ID, caller.address);
      }
      expect(await this.trust.getRotation(this.spareKey.address)).to.deep.equal([ethers.ZeroAddress, false, false]);
    });

    it("follows rotateKey's rules for the old key: unknown, closed, not valid now", async function () {
      await expect(rotateSm2(this, this.authority, this.otherKey, this.newKey))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryUnknownKey")
        .withArgs(ISSUER_ID, this.otherKey.address);
      const now = BigInt(await time.latest());
      await addSm2(this, this.spareKey, { from: now + 1000n });
      const ts = await nextTimestamp();
      await expect(rotateSm2(this, this.authority, this.spareKey, this.newKey))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyNotValid")
        .withArgs(ISSUER_ID, this.spareKey.address, ts);
      await rotateSm2(this, this.authority, this.key, this.newKey);
      await expect(rotateSm2(this, this.authority, this.key, this.accounts[0]))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyClosed")
        .withArgs(ISSUER_ID, this.key.address);
    });

    describe("refusals leave the old key open and the new key unbound", function () {
      async function expectUnchanged(ctx) {
        expect(await ctx.trust.getRotation(ctx.key.address)).to.deep.equal([ethers.ZeroAddress, false, false]);
        expect(await ctx.trust.getKey(ctx.key.address)).to.deep.equal([ISSUER_ID, ctx.keyValidFrom, OPEN_END]);
        expect(await ctx.trust.getKey(ctx.newKey.address)).to.deep.equal([ethers.ZeroHash, 0n, 0n]);
        expect(await ctx.trust.getSm2Key(ctx.newKey.address)).to.equal(ethers.ZeroHash);
      }

      const shapes = {
        "a 65-byte key": [(r) => ({ publicKey: ethers.concat(["0x04", r.publicKey]) }), "TrustRegistryInvalidSm2KeyLength", () => [65]],
        "an empty ID": [() => ({ distinguishingId: "0x" }), "TrustRegistryInvalidSm2IdLength", () => [0]],
        "a key off the curve": [() => ({ publicKey: ethers.concat([word(1n), word(1n)]) }), "TrustRegistrySm2KeyNotOnCurve", () => [1n, 1n]],
        "r = 0": [(r) => ({ proof: ethers.concat([word(0n), ethers.dataSlice(r.proof, 32)]) }), "TrustRegistrySm2ProofOutOfRange", (r) => [0n, BigInt(ethers.dataSlice(r.proof, 32))]],
      };
      for (const [kind, [change, error, args]] of Object.entries(shapes)) {
        for (const who of ["authority", "key"]) {
          it(`${kind}, rotated by ${who === "key" ? "the key itself" : "an authority"} (${error})`, async function () {
            const { registration } = sm2Registration(ISSUER_ID, this.newKey.address);
            const bad = { ...registration, ...change(registration) };
            await expect(rotateSm2(this, this[who], this.key, this.newKey, { registration: bad }))
              .to.be.revertedWithCustomError(this.trust, error)
              .withArgs(...args(registration));
            await expectUnchanged(this);
          });
        }
      }

      it("an acceptance over another SM2 key, by another account, or the plain KeyAcceptance (TrustRegistrySm2KeyNotAccepted)", async function () {
        const { registration, keyHash } = sm2Registration(ISSUER_ID, this.newKey.address);
        const acceptances = [
          sm2Accept(ISSUER_ID, this.newKey.address, { ...registration, publicKey: makeSm2Key().publicKey }),
          sm2Accept(ISSUER_ID, this.newKey.address, registration, { by: this.key.address }),
          accept(ISSUER_ID, this.newKey.address),
          "0x",
        ];
        for (const acceptance of acceptances) {
          await expect(rotateSm2(this, this.key, this.key, this.newKey, { registration, acceptance }))
            .to.be.revertedWithCustomError(this.trust, "TrustRegistrySm2KeyNotAccepted")
            .withArgs(ISSUER_ID, this.newKey.address, keyHash);
        }
        await expectUnchanged(this);
      });

      it("a new key in use, another issuer's or an authority (addKey's checks)", async function () {
        await expect(rotateSm2(this, this.key, this.key, this.otherKey))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyInUse")
          .withArgs(this.otherKey.address, OTHER_ISSUER_ID);
        await expect(rotateSm2(this, this.key, this.key, this.authority))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyIsAuthority")
          .withArgs(ISSUER_ID, this.authority.address);
        await expectUnchanged(this);
      });
    });
  });

  describe("retirement and compromise act on the account, and so on its SM2 key", function () {
    for (const who of ["authority", "newKey"]) {
      it(`retireKey by ${who === "newKey" ? "the SM2-bound key itself" : "an authority"} ends its window; the binding stays on record`, async function () {
        const bound = await addSm2(this, this.newKey);
        const ts = await nextTimestamp();
        await expect(this.trust.connect(this[who]).retireKey(ISSUER_ID, this.newKey.address))
          .to.emit(this.trust, "KeyRetired")
          .withArgs(ISSUER_ID, this.newKey.address, ts + 1n);
        expect(await this.trust.getKey(this.newKey.address)).to.deep.equal([ISSUER_ID, bound.validFrom, ts + 1n]);
        expect(await this.trust.getSm2Key(this.newKey.address)).to.equal(bound.keyHash);
        expect(await this.trust.isKeyValid(ISSUER_ID, this.newKey.address, ts + 1n)).to.be.false;
      });
    }

    it("a department, a stranger or another region's authority cannot retire or declare an SM2-bound key compromised", async function () {
      const bound = await addSm2(this, this.newKey);
      for (const caller of [this.key, this.stranger, this.otherAuthority, this.otherKey]) {
        await expect(this.trust.connect(caller).retireKey(ISSUER_ID, this.newKey.address))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotIssuerOrAuthority")
          .withArgs(ISSUER_ID, caller.address);
      }
      for (const caller of [this.newKey, this.key, this.stranger, this.otherAuthority]) {
        await expect(this.trust.connect(caller).declareKeyCompromised(ISSUER_ID, this.newKey.address, bound.validFrom))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotRegionAuthority")
          .withArgs(REGION, caller.address);
      }
      expect(await this.trust.getKey(this.newKey.address)).to.deep.equal([ISSUER_ID, bound.validFrom, OPEN_END]);
    });

    it("compromise cascades through SM2-bound successors: plain -> SM2 -> SM2 -> plain, all rotated by themselves", async function () {
      await time.increase(100);
      const [a, b, c, d] = [this.key, this.newKey, this.spareKey, this.accounts[0]];
      const compromisedAt = await nextTimestamp(10n);
      await rotateSm2(this, a, a, b); // the thief's first move: rotate the stolen key to an SM2 key of their own
      const tb = await nextTimestamp(10n);
      await rotateSm2(this, b, b, c);
      const tc = await nextTimestamp(10n);
      await this.trust.connect(c).rotateKey(ISSUER_ID, c.address, d.address, accept(ISSUER_ID, d.address));
      const td = BigInt(await time.latest());
      const tx = this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, a.address, compromisedAt);
      expect(await eventsOf(this.trust, tx)).to.deep.equal([
        ["KeyCompromised", ISSUER_ID, a.address, compromisedAt],
        ["KeyCompromised", ISSUER_ID, b.address, compromisedAt],
        ["KeyCompromised", ISSUER_ID, c.address, tb],
        ["KeyCompromised", ISSUER_ID, d.address, tc],
      ]);
      expect(td).to.equal(tc);
      for (const [key, from] of [[b, compromisedAt], [c, tb], [d, tc]]) {
        expect(await this.trust.getKey(key.address)).to.deep.equal([ISSUER_ID, from, from]);
      }
      // the voided SM2 key cannot anchor, nor rotate on
      const batch = makeBatch(2, "voided sm2");
      const ts = await nextTimestamp();
      await expect(this.registry.connect(c).anchor(batch.root, batch.digests))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryKeyNotValid")
        .withArgs(ISSUER_ID, c.address, ts);
    });

    it("an authority's rotation to an SM2 key is not voided by the old key's later compromise", async function () {
      await time.increase(100);
      const ts = await nextTimestamp();
      await rotateSm2(this, this.authority, this.key, this.newKey);
      await time.increase(10);
      await expect(this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.key.address, ts))
        .to.emit(this.trust, "KeyCompromised")
        .withArgs(ISSUER_ID, this.key.address, ts);
      expect(await this.trust.getKey(this.newKey.address)).to.deep.equal([ISSUER_ID, ts, OPEN_END]);
    });
  });
});

describe("LicenseRegistry", function () {
  beforeEach(async function () {
    Object.assign(this, await loadFixtureNow(deployFixture));
  });

  describe("anchoring by an SM2-bound key", function () {
    async function bindNewKey(ctx, from, until = OPEN_END) {
      const { registration } = sm2Registration(ISSUER_ID, ctx.newKey.address);
      await ctx.trust
        .connect(ctx.authority)
        .addSm2Key(ISSUER_ID, ctx.newKey.address, registration, from, until, sm2Accept(ISSUER_ID, ctx.newKey.address, registration));
    }

    it("anchors inside its window, and is refused before it and after its retirement", async function () {
      const now = BigInt(await time.latest());
      await bindNewKey(this, now + 100n);
      const early = makeBatch(3, "sm2 early");
      let ts = await nextTimestamp();
      await expect(this.registry.connect(this.newKey).anchor(early.root, early.digests))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryKeyNotValid")
        .withArgs(ISSUER_ID, this.newKey.address, ts);

      await time.setNextBlockTimestamp(now + 100n);
      const inside = makeBatch(3, "sm2 inside");
      await expect(this.registry.connect(this.newKey).anchor(inside.root, inside.digests))
        .to.emit(this.registry, "BatchAnchored")
        .withArgs(inside.root, ISSUER_ID, this.newKey.address, inside.digests);

      await this.trust.connect(this.newKey).retireKey(ISSUER_ID, this.newKey.address);
      await time.increase(1);
      const late = makeBatch(3, "sm2 late");
      ts = await nextTimestamp();
      await expect(this.registry.connect(this.newKey).anchor(late.root, late.digests))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryKeyNotValid")
        .withArgs(ISSUER_ID, this.newKey.address, ts);
    });

    it("is refused after compromise, and licenses it anchored after the compromise time stop checking", async function () {
      const from = BigInt(await time.latest());
      await bindNewKey(this, from);
      const before = makeBatch(2, "sm2 before");
      await this.registry.connect(this.newKey).anchor(before.root, before.digests);
      const compromisedAt = await nextTimestamp(10n);
      const after = makeBatch(2, "sm2 after");
      await this.registry.connect(this.newKey).anchor(after.root, after.digests);
      await time.increase(10);
      await this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.newKey.address, compromisedAt);
      const anchorOf = async (root) => this.registry.getAnchor(ISSUER_ID, root);
      const [keyBefore, atBefore] = await anchorOf(before.root);
      const [keyAfter, atAfter] = await anchorOf(after.root);
      expect([keyBefore, keyAfter]).to.deep.equal([this.newKey.address, this.newKey.address]);
      expect(await this.trust.isKeyValid(ISSUER_ID, this.newKey.address, atBefore)).to.be.true;
      expect(await this.trust.isKeyValid(ISSUER_ID, this.newKey.address, atAfter)).to.be.false;
      const again = makeBatch(2, "sm2 again");
      const ts = await nextTimestamp();
      await expect(this.registry.connect(this.newKey).anchor(again.root, again.digests))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryKeyNotValid")
        .withArgs(ISSUER_ID, this.newKey.address, ts);
    });

    it("another issuer's SM2-bound key anchors only under its own issuer", async function () {
      const { registration } = sm2Registration(OTHER_ISSUER_ID, this.spareKey.address);
      const from = BigInt(await time.latest());
      await this.trust
        .connect(this.otherAuthority)
        .addSm2Key(OTHER_ISSUER_ID, this.spareKey.address, registration, from, OPEN_END, sm2Accept(OTHER_ISSUER_ID, this.spareKey.address, registration));
      const batch = makeBatch(2, "sm2 other");
      await expect(this.registry.connect(this.spareKey).anchor(batch.root, batch.digests))
        .to.emit(this.registry, "BatchAnchored")
        .withArgs(batch.root, OTHER_ISSUER_ID, this.spareKey.address, batch.digests);
      const [key] = await this.registry.getAnchor(ISSUER_ID, batch.root);
      expect(key).to.equal(ethers.ZeroAddress);
    });
  });
});
