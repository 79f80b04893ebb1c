// TrustRegistry: BLS12-381 co-signing keys (docs/joint.md): registration with a proof of
// possession checked on chain, rotation, retirement, compromise. The attack tests come first.

const { ethers } = require("hardhat");
const { expect } = require("chai");
const { time } = require("@nomicfoundation/hardhat-network-helpers");

const { shouldOnlyAllowRegionAuthority, UNKNOWN_ISSUER_ID } = require("../helpers/trust");
const {
  OPEN_END,
  REGION,
  ISSUER_ID,
  OTHER_ISSUER_ID,
  INVALID_KEY_KINDS,
  makeInvalidKey,
  deployFixture,
  loadFixtureNow,
  nextTimestamp,
  eventsOf,
} = require("../helpers");
const {
  bls,
  P,
  G1,
  POP_DST,
  SIG_DST,
  rawG1,
  g1ToEip2537,
  g2ToEip2537,
  compressG1,
  keyIdOf,
  hashToG2,
  makeKey,
  sign,
  signPoint,
  fastAggregateVerify,
} = require("../helpers/bls");

/** A point of the curve that is not in G1 (first from x = 1). */
function pointOutsideG1() {
  const Fp = bls.fields.Fp;
  for (let x = 1n; ; ++x) {
    const rhs = Fp.add(Fp.pow(x, 3n), 4n);
    let y;
    try {
      y = Fp.sqrt(rhs);
    } catch {
      continue;
    }
    if (Fp.eql(Fp.sqr(y), rhs) && !G1.fromAffine({ x, y }).isTorsionFree()) return rawG1(x, y);
  }
}

describe("TrustRegistry", function () {
  beforeEach(async function () {
    Object.assign(this, await loadFixtureNow(deployFixture));
    this.coKey = makeKey("issuer co-signing key");
    this.now = BigInt(await time.latest());
  });

  function add(ctx, key, { from, until = OPEN_END, issuerId = ISSUER_ID, caller = ctx.authority, proof = key.proof } = {}) {
    return ctx.trust.connect(caller).addCoSigningKey(issuerId, key.publicKey, proof, from ?? ctx.now, until);
  }

  // ----------------------------------------------------------------------------------------------
  // addCoSigningKey
  // ----------------------------------------------------------------------------------------------

  describe("addCoSigningKey", function () {
    describe("attacks and bad input", function () {
      it("refuses a rogue key (pk_x - pk_victim) that has no valid proof of possession", async function () {
        const victim = makeKey("victim");
        await add(this, victim);
        // the attacker knows x, not the victim's secret: pk_rogue = g1*x - pk_victim
        const x = 123456789n;
        const rogue = G1.BASE.multiply(x).subtract(victim.pk);
        const rogueKey = g1ToEip2537(rogue);
        // with it, the attacker alone makes a "joint" signature the pair would verify
        const digest = ethers.id("a bundle the victim never saw");
        const forged = g2ToEip2537(signPoint(x, digest));
        expect(fastAggregateVerify([victim, { pk: rogue }], digest, forged)).to.be.true;
        // but no proof of possession: neither a signature by x, nor the victim's proof, nor the forgery
        const rogueId = keyIdOf(rogue);
        const fromX = g2ToEip2537(hashToG2(compressG1(rogue), POP_DST).multiply(x));
        for (const proof of [fromX, victim.proof, forged]) {
          await expect(this.trust.connect(this.authority).addCoSigningKey(ISSUER_ID, rogueKey, proof, this.now, OPEN_END))
            .to.be.revertedWithCustomError(this.trust, "TrustRegistryInvalidProofOfPossession")
            .withArgs(rogueId);
        }
        expect((await this.trust.getCoSigningKey(rogueId)).issuerId).to.equal(ethers.ZeroHash);
      });

      it("refuses a proof of possession of another key", async function () {
        const other = makeKey("other");
        await expect(add(this, this.coKey, { proof: other.proof }))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryInvalidProofOfPossession")
          .withArgs(this.coKey.keyId);
      });

      it("refuses a proof made with the signature DST, or over another message", async function () {
        const withSigDst = sign(this.coKey.sk, this.coKey.compressed, SIG_DST);
        const ofUncompressed = sign(this.coKey.sk, this.coKey.publicKey, POP_DST);
        for (const proof of [withSigDst, ofUncompressed]) {
          await expect(add(this, this.coKey, { proof }))
            .to.be.revertedWithCustomError(this.trust, "TrustRegistryInvalidProofOfPossession")
            .withArgs(this.coKey.keyId);
        }
      });

      it("refuses a malformed proof (length, infinity, top bytes, off the curve, not in G2)", async function () {
        const p = this.coKey.proof;
        const flipped = ethers.getBytes(p);
        flipped[200] ^= 1;
        const top = ethers.getBytes(p);
        top[0] = 1;
        for (const proof of ["0x", ethers.dataSlice(p, 0, 255), ethers.concat([p, "0x00"]), new Uint8Array(256), flipped, top]) {
          await expect(add(this, this.coKey, { proof }))
            .to.be.revertedWithCustomError(this.trust, "TrustRegistryInvalidProofOfPossession")
            .withArgs(this.coKey.keyId);
        }
      });

      it("refuses infinity, wrong lengths and non-zero top bytes (TrustRegistryInvalidCoSigningKey)", async function () {
        const good = this.coKey.publicKey;
        const top = ethers.getBytes(good);
        top[64] = 1;
        for (const publicKey of ["0x", new Uint8Array(128), ethers.dataSlice(good, 0, 127), ethers.concat([good, "0x00"]), top]) {
          await expect(this.trust.connect(this.authority).addCoSigningKey(ISSUER_ID, publicKey, this.coKey.proof, this.now, OPEN_END))
            .to.be.revertedWithCustomError(this.trust, "TrustRegistryInvalidCoSigningKey")
            .withArgs(ethers.hexlify(publicKey));
        }
      });

      it("refuses a point off the curve, a coordinate not below p, and a point outside G1", async function () {
        const { x, y } = this.coKey.pk.toAffine();
        for (const publicKey of [rawG1(x, y + 1n), rawG1(x, y + P), pointOutsideG1()]) {
          await expect(this.trust.connect(this.authority).addCoSigningKey(ISSUER_ID, publicKey, this.coKey.proof, this.now, OPEN_END))
            .to.be.revertedWithCustomError(this.trust, "TrustRegistryInvalidCoSigningKey")
            .withArgs(publicKey);
        }
      });

      it("refuses an empty window", async function () {
        await expect(add(this, this.coKey, { from: 100n, until: 100n }))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryInvalidWindow")
          .withArgs(100n, 100n);
      });

      it("never reuses a key id, for the same issuer or another", async function () {
        await add(this, this.coKey);
        await expect(add(this, this.coKey))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryCoSigningKeyInUse")
          .withArgs(this.coKey.keyId, ISSUER_ID);
        await expect(add(this, this.coKey, { issuerId: OTHER_ISSUER_ID, caller: this.otherAuthority }))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryCoSigningKeyInUse")
          .withArgs(this.coKey.keyId, ISSUER_ID);
        // nor after it was retired
        await this.trust.connect(this.authority).retireCoSigningKey(ISSUER_ID, this.coKey.keyId);
        await expect(add(this, this.coKey))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryCoSigningKeyInUse")
          .withArgs(this.coKey.keyId, ISSUER_ID);
      });
    });

    shouldOnlyAllowRegionAuthority((ctx, caller, issuerId) => add(ctx, makeKey(`access ${caller.address}`), { caller, issuerId }));

    it("adds the key with its window and emits CoSigningKeyAdded with the public key", async function () {
      const from = this.now + 100n;
      const until = from + 1000n;
      await expect(add(this, this.coKey, { from, until }))
        .to.emit(this.trust, "CoSigningKeyAdded")
        .withArgs(ISSUER_ID, this.coKey.keyId, this.coKey.publicKey, from, until);
      expect(await this.trust.getCoSigningKey(this.coKey.keyId)).to.deep.equal([ISSUER_ID, from, until, false]);
      expect(await this.trust.isCoSigningKeyValid(ISSUER_ID, this.coKey.keyId, from - 1n)).to.be.false;
      expect(await this.trust.isCoSigningKeyValid(ISSUER_ID, this.coKey.keyId, from)).to.be.true;
      expect(await this.trust.isCoSigningKeyValid(ISSUER_ID, this.coKey.keyId, until - 1n)).to.be.true;
      expect(await this.trust.isCoSigningKeyValid(ISSUER_ID, this.coKey.keyId, until)).to.be.false;
      expect(await this.trust.isCoSigningKeyValid(OTHER_ISSUER_ID, this.coKey.keyId, from)).to.be.false;
      expect(await this.trust.isCoSigningKeyValid(ethers.ZeroHash, ethers.id("unknown"), from)).to.be.false;
    });

    it("accepts keys whose y lies on either side of (p - 1) / 2", async function () {
      const signs = new Set();
      for (let i = 0; signs.size < 2 && i < 16; ++i) {
        const key = makeKey(`sign ${i}`);
        await add(this, key);
        signs.add(ethers.getBytes(key.compressed)[0] & 0x20);
        expect((await this.trust.getCoSigningKey(key.keyId)).issuerId).to.equal(ISSUER_ID);
      }
      expect(signs.size).to.equal(2);
    });
  });

  describe("coSigningKeyId", function () {
    it("is keccak256 of the ZCash compressed key (noble's toRawBytes(true))", async function () {
      for (let i = 0; i < 4; ++i) {
        const key = makeKey(`id ${i}`);
        expect(await this.trust.coSigningKeyId(key.publicKey)).to.equal(ethers.keccak256(key.pk.toRawBytes(true)));
      }
    });

    it("refuses malformed encodings", async function () {
      for (const publicKey of ["0x", new Uint8Array(128), ethers.dataSlice(this.coKey.publicKey, 0, 100)]) {
        await expect(this.trust.coSigningKeyId(publicKey))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryInvalidCoSigningKey")
          .withArgs(ethers.hexlify(publicKey));
      }
    });
  });

  // ----------------------------------------------------------------------------------------------
  // rotateCoSigningKey
  // ----------------------------------------------------------------------------------------------

  describe("rotateCoSigningKey", function () {
    beforeEach(async function () {
      await add(this, this.coKey);
      this.next = makeKey("next");
    });

    function rotate(ctx, caller = ctx.authority, issuerId = ISSUER_ID, next = ctx.next, oldKeyId = ctx.coKey.keyId) {
      return ctx.trust.connect(caller).rotateCoSigningKey(issuerId, oldKeyId, next.publicKey, next.proof);
    }

    shouldOnlyAllowRegionAuthority((ctx, caller, issuerId) => rotate(ctx, caller, issuerId));

    it("refuses a signing key of the issuer (a thief cannot install a key of their own)", async function () {
      await expect(rotate(this, this.key))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotRegionAuthority")
        .withArgs(REGION, this.key.address);
    });

    it("ends the old window after this second, opens the new one now, emits Retired, Added, Rotated", async function () {
      const at = await nextTimestamp();
      const tx = rotate(this);
      expect(await eventsOf(this.trust, tx)).to.deep.equal([
        ["CoSigningKeyRetired", ISSUER_ID, this.coKey.keyId, at + 1n],
        ["CoSigningKeyAdded", ISSUER_ID, this.next.keyId, this.next.publicKey, at, OPEN_END],
        ["CoSigningKeyRotated", ISSUER_ID, this.coKey.keyId, this.next.keyId],
      ]);
      expect(await this.trust.getCoSigningKey(this.coKey.keyId)).to.deep.equal([ISSUER_ID, this.now, at + 1n, true]);
      expect(await this.trust.getCoSigningKey(this.next.keyId)).to.deep.equal([ISSUER_ID, at, OPEN_END, false]);
    });

    it("refuses a closed key, a key not valid now, an unknown key, another issuer's key", async function () {
      await rotate(this);
      await expect(rotate(this, this.authority, ISSUER_ID, makeKey("n2")))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryCoSigningKeyClosed")
        .withArgs(ISSUER_ID, this.coKey.keyId);
      const later = makeKey("later");
      await add(this, later, { from: this.now + 1000n });
      const at = await nextTimestamp();
      await expect(rotate(this, this.authority, ISSUER_ID, makeKey("n3"), later.keyId))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryCoSigningKeyNotValid")
        .withArgs(ISSUER_ID, later.keyId, at);
      await expect(rotate(this, this.authority, ISSUER_ID, makeKey("n4"), ethers.id("unknown")))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryUnknownCoSigningKey")
        .withArgs(ISSUER_ID, ethers.id("unknown"));
      const theirs = makeKey("theirs");
      await add(this, theirs, { issuerId: OTHER_ISSUER_ID, caller: this.otherAuthority });
      await expect(rotate(this, this.authority, ISSUER_ID, makeKey("n5"), theirs.keyId))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryUnknownCoSigningKey")
        .withArgs(ISSUER_ID, theirs.keyId);
    });

    it("refuses a new key without a valid proof of possession, leaving the old key as it was", async function () {
      const bad = { ...this.next, proof: this.coKey.proof };
      await expect(rotate(this, this.authority, ISSUER_ID, bad))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryInvalidProofOfPossession")
        .withArgs(this.next.keyId);
      expect(await this.trust.getCoSigningKey(this.coKey.keyId)).to.deep.equal([ISSUER_ID, this.now, OPEN_END, false]);
    });
  });

  // ----------------------------------------------------------------------------------------------
  // retireCoSigningKey
  // ----------------------------------------------------------------------------------------------

  describe("retireCoSigningKey", function () {
    beforeEach(async function () {
      await add(this, this.coKey);
    });

    for (const who of ["authority", "key"]) {
      it(`retires the key after this second when called by ${who === "key" ? "a signing key of the issuer valid now" : "an authority"}`, async function () {
        const at = await nextTimestamp();
        await expect(this.trust.connect(this[who]).retireCoSigningKey(ISSUER_ID, this.coKey.keyId))
          .to.emit(this.trust, "CoSigningKeyRetired")
          .withArgs(ISSUER_ID, this.coKey.keyId, at + 1n);
        expect(await this.trust.getCoSigningKey(this.coKey.keyId)).to.deep.equal([ISSUER_ID, this.now, at + 1n, true]);
      });
    }

    const others = {
      stranger: "a stranger",
      otherKey: "a valid signing key of another issuer",
      otherAuthority: "an authority of another region",
      admin: "the federation admin",
    };
    for (const [who, description] of Object.entries(others)) {
      it(`refuses ${description}`, async function () {
        await expect(this.trust.connect(this[who]).retireCoSigningKey(ISSUER_ID, this.coKey.keyId))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotIssuerOrAuthority")
          .withArgs(ISSUER_ID, this[who].address);
      });
    }

    for (const kind of INVALID_KEY_KINDS) {
      it(`refuses a signing key of the issuer that is ${kind}`, async function () {
        const caller = await makeInvalidKey(this, kind);
        await expect(this.trust.connect(caller).retireCoSigningKey(ISSUER_ID, this.coKey.keyId))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotIssuerOrAuthority")
          .withArgs(ISSUER_ID, caller.address);
      });
    }

    it("refuses an unknown issuer, an unknown key, a closed key, a key whose window ended", async function () {
      await expect(this.trust.connect(this.authority).retireCoSigningKey(UNKNOWN_ISSUER_ID, this.coKey.keyId))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryUnknownIssuer")
        .withArgs(UNKNOWN_ISSUER_ID);
      await expect(this.trust.connect(this.authority).retireCoSigningKey(ISSUER_ID, ethers.id("x")))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryUnknownCoSigningKey")
        .withArgs(ISSUER_ID, ethers.id("x"));
      await this.trust.connect(this.authority).retireCoSigningKey(ISSUER_ID, this.coKey.keyId);
      await expect(this.trust.connect(this.authority).retireCoSigningKey(ISSUER_ID, this.coKey.keyId))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryCoSigningKeyClosed")
        .withArgs(ISSUER_ID, this.coKey.keyId);
      const short = makeKey("short");
      await add(this, short, { until: this.now + 5n });
      await time.increase(10);
      const at = await nextTimestamp();
      await expect(this.trust.connect(this.authority).retireCoSigningKey(ISSUER_ID, short.keyId))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryCoSigningKeyNotValid")
        .withArgs(ISSUER_ID, short.keyId, at);
    });

    it("empties the window of a key not started yet", async function () {
      const later = makeKey("later");
      const from = this.now + 1000n;
      await add(this, later, { from });
      await expect(this.trust.connect(this.authority).retireCoSigningKey(ISSUER_ID, later.keyId))
        .to.emit(this.trust, "CoSigningKeyRetired")
        .withArgs(ISSUER_ID, later.keyId, from);
      expect(await this.trust.isCoSigningKeyValid(ISSUER_ID, later.keyId, from)).to.be.false;
    });
  });

  // ----------------------------------------------------------------------------------------------
  // declareCoSigningKeyCompromised
  // ----------------------------------------------------------------------------------------------

  describe("declareCoSigningKeyCompromised", function () {
    beforeEach(async function () {
      await add(this, this.coKey);
      await time.increase(100);
    });

    shouldOnlyAllowRegionAuthority((ctx, caller, issuerId) =>
      ctx.trust.connect(caller).declareCoSigningKeyCompromised(issuerId, ctx.coKey.keyId, ctx.now + 10n),
    );

    it("refuses a signing key of the issuer", async function () {
      await expect(this.trust.connect(this.key).declareCoSigningKeyCompromised(ISSUER_ID, this.coKey.keyId, this.now + 10n))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotRegionAuthority")
        .withArgs(REGION, this.key.address);
    });

    it("ends the window at the compromise time, and only ever shrinks it", async function () {
      const at = this.now + 50n;
      await expect(this.trust.connect(this.authority).declareCoSigningKeyCompromised(ISSUER_ID, this.coKey.keyId, at))
        .to.emit(this.trust, "CoSigningKeyCompromised")
        .withArgs(ISSUER_ID, this.coKey.keyId, at);
      expect(await this.trust.getCoSigningKey(this.coKey.keyId)).to.deep.equal([ISSUER_ID, this.now, at, false]);
      expect(await this.trust.isCoSigningKeyValid(ISSUER_ID, this.coKey.keyId, at - 1n)).to.be.true;
      expect(await this.trust.isCoSigningKeyValid(ISSUER_ID, this.coKey.keyId, at)).to.be.false;
      await expect(this.trust.connect(this.authority).declareCoSigningKeyCompromised(ISSUER_ID, this.coKey.keyId, at))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryCoSigningKeyCompromiseTimeOutOfRange")
        .withArgs(this.coKey.keyId, at, this.now, at);
      await this.trust.connect(this.authority).declareCoSigningKeyCompromised(ISSUER_ID, this.coKey.keyId, at - 20n);
      expect((await this.trust.getCoSigningKey(this.coKey.keyId)).validUntil).to.equal(at - 20n);
    });

    it("refuses a time before the window or in the future, and an unknown key", async function () {
      const future = BigInt(await time.latest()) + 100n;
      for (const t of [this.now - 1n, future]) {
        await expect(this.trust.connect(this.authority).declareCoSigningKeyCompromised(ISSUER_ID, this.coKey.keyId, t))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryCoSigningKeyCompromiseTimeOutOfRange")
          .withArgs(this.coKey.keyId, t, this.now, OPEN_END);
      }
      await expect(this.trust.connect(this.authority).declareCoSigningKeyCompromised(ISSUER_ID, ethers.id("x"), this.now))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryUnknownCoSigningKey")
        .withArgs(ISSUER_ID, ethers.id("x"));
    });
  });
});
