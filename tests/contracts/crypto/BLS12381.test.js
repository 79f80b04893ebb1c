// BLS12381 library: RFC 9380 hash to G2 and expand_message_xmd against the RFC's own vectors
// (appendix J.10.1 and K.1), the encodings, and the precompile checks, through a test-only mock.

const { ethers } = require("hardhat");
const { expect } = require("chai");
const { loadFixture } = require("@nomicfoundation/hardhat-network-helpers");

const rfc = require("../vectors/rfc9380.json");
const { deployMock } = require("../helpers");
const {
  bls,
  P,
  G1,
  G2,
  SIG_DST,
  POP_DST,
  fpWord,
  rawG1,
  g1ToEip2537,
  g2ToEip2537,
  compressG1,
  hashToG2,
  makeKey,
  sign,
  signPoint,
} = require("../helpers/bls");

const utf8 = (s) => ethers.toUtf8Bytes(s);
const fp2 = ([c0, c1]) => ethers.concat([fpWord(BigInt(c0)), fpWord(BigInt(c1))]);

/** A point of the curve y^2 = x^3 + 4 that is not in the subgroup G1 (the first from x = 1). */
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
    if (Fp.eql(Fp.sqr(y), rhs)) {
      const point = G1.fromAffine({ x, y });
      if (!point.multiply(1n).equals(point) || !point.isTorsionFree()) return { x, y };
    }
  }
}

async function fixture() {
  return { mock: await deployMock("BLS12381Mock") };
}

describe("BLS12381", function () {
  beforeEach(async function () {
    Object.assign(this, await loadFixture(fixture));
  });

  describe("expand_message_xmd (RFC 9380 appendix K.1, SHA-256)", function () {
    for (const v of rfc.expandMessageXmd.vectors) {
      it(`msg "${v.msg.slice(0, 16)}${v.msg.length > 16 ? "..." : ""}", ${v.lenInBytes} bytes`, async function () {
        expect(await this.mock.expandMessageXmd(utf8(v.msg), utf8(rfc.expandMessageXmd.dst), v.lenInBytes)).to.equal(
          v.uniformBytes,
        );
      });
    }

    it("refuses a DST over 255 bytes and an output length out of range", async function () {
      await expect(this.mock.expandMessageXmd("0x", new Uint8Array(256), 32))
        .to.be.revertedWithCustomError(this.mock, "BLS12381InvalidExpandInput")
        .withArgs(256, 32);
      await expect(this.mock.expandMessageXmd("0x", utf8("dst"), 0))
        .to.be.revertedWithCustomError(this.mock, "BLS12381InvalidExpandInput")
        .withArgs(3, 0);
      await expect(this.mock.expandMessageXmd("0x", utf8("dst"), 255 * 32 + 1))
        .to.be.revertedWithCustomError(this.mock, "BLS12381InvalidExpandInput")
        .withArgs(3, 255 * 32 + 1);
    });
  });

  describe("hash_to_curve G2 (RFC 9380 appendix J.10.1, BLS12381G2_XMD:SHA-256_SSWU_RO_)", function () {
    const dst = utf8(rfc.hashToG2.dst);
    for (const v of rfc.hashToG2.vectors) {
      const label = `msg "${v.msg.slice(0, 16)}${v.msg.length > 16 ? "..." : ""}"`;

      it(`${label}: hash_to_field gives u[0], u[1]`, async function () {
        const [u0, u1] = await this.mock.hashToFieldFp2(utf8(v.msg), dst);
        expect(u0).to.equal(fp2(v.u[0]));
        expect(u1).to.equal(fp2(v.u[1]));
      });

      it(`${label}: hash_to_curve gives P`, async function () {
        const expected = ethers.concat([fp2(v.P.x), fp2(v.P.y)]);
        expect(await this.mock.hashToG2(utf8(v.msg), dst)).to.equal(expected);
        // and so does the JS implementation the other tests sign with
        expect(g2ToEip2537(hashToG2(utf8(v.msg), rfc.hashToG2.dst))).to.equal(expected);
      });
    }

    it("agrees with @noble/curves on the DSTs of the ciphersuite, for a 32-byte digest and a 48-byte key", async function () {
      const digest = ethers.id("bundle");
      const key = makeKey("h2c");
      expect(await this.mock.hashToG2(digest, utf8(SIG_DST))).to.equal(g2ToEip2537(hashToG2(digest, SIG_DST)));
      expect(await this.mock.hashToG2(key.compressed, utf8(POP_DST))).to.equal(
        g2ToEip2537(hashToG2(key.compressed, POP_DST)),
      );
      const gas = await this.mock.hashToG2Gas(digest, utf8(SIG_DST));
      console.log(`      hash to G2 of 32 bytes: ${gas} gas`);
      expect(gas).to.be.lessThan(120_000n);
    });
  });

  describe("encodings", function () {
    it("compresses G1 points as ZCash does (both signs of y)", async function () {
      const seen = new Set();
      for (let i = 0; i < 8; ++i) {
        const { pk } = makeKey(`compress ${i}`);
        const compressed = await this.mock.compressG1(g1ToEip2537(pk));
        expect(compressed).to.equal(compressG1(pk));
        expect(compressed).to.equal(ethers.hexlify(bls.G1.ProjectivePoint.fromHex(compressed.slice(2)).toRawBytes(true)));
        seen.add(ethers.getBytes(compressed)[0] & 0x20);
        const negated = pk.negate();
        expect(await this.mock.compressG1(g1ToEip2537(negated))).to.equal(compressG1(negated));
      }
      expect(seen.size).to.equal(2); // both sign bits were exercised
      expect(await this.mock.compressG1(g1ToEip2537(G1.BASE))).to.equal(compressG1(G1.BASE));
    });

    it("tells a G1 encoding from infinity, wrong lengths and non-zero top bytes", async function () {
      const good = g1ToEip2537(makeKey("enc").pk);
      expect(await this.mock.isG1Encoding(good)).to.be.true;
      expect(await this.mock.isG1Encoding(new Uint8Array(128))).to.be.false; // infinity
      expect(await this.mock.isG1Encoding(ethers.dataSlice(good, 0, 127))).to.be.false;
      expect(await this.mock.isG1Encoding(ethers.concat([good, "0x00"]))).to.be.false;
      expect(await this.mock.isG1Encoding("0x")).to.be.false;
      for (const at of [0, 15, 64, 79]) {
        const bad = ethers.getBytes(good);
        bad[at] = 1;
        expect(await this.mock.isG1Encoding(bad)).to.be.false;
      }
    });

    it("tells a G2 encoding from infinity, wrong lengths and non-zero top bytes", async function () {
      const good = sign(makeKey("enc").sk, ethers.id("m"));
      expect(await this.mock.isG2Encoding(good)).to.be.true;
      expect(await this.mock.isG2Encoding(new Uint8Array(256))).to.be.false;
      expect(await this.mock.isG2Encoding(ethers.dataSlice(good, 0, 255))).to.be.false;
      for (const at of [0, 64, 128, 192 + 15]) {
        const bad = ethers.getBytes(good);
        bad[at] = 1;
        expect(await this.mock.isG2Encoding(bad)).to.be.false;
      }
    });
  });

  describe("group operations and the pairing", function () {
    it("adds G1 points, and refuses a point off the curve", async function () {
      const a = makeKey("a").pk;
      const b = makeKey("b").pk;
      expect(await this.mock.g1Add(g1ToEip2537(a), g1ToEip2537(b))).to.deep.equal([true, g1ToEip2537(a.add(b))]);
      const { x, y } = a.toAffine();
      const [valid] = await this.mock.g1Add(g1ToEip2537(a), rawG1(x, y + 1n));
      expect(valid).to.be.false;
      const [validTooBig] = await this.mock.g1Add(g1ToEip2537(a), rawG1(x + P, y));
      expect(validTooBig).to.be.false;
    });

    it("checks G1 subgroup membership", async function () {
      expect(await this.mock.isInG1(g1ToEip2537(makeKey("s").pk))).to.be.true;
      const outside = pointOutsideG1();
      expect(await this.mock.isInG1(rawG1(outside.x, outside.y))).to.be.false;
      const { x, y } = makeKey("s").pk.toAffine();
      expect(await this.mock.isInG1(rawG1(x, y + 1n))).to.be.false;
      expect(await this.mock.isInG1(new Uint8Array(127))).to.be.false;
    });

    it("verifies a signature, and only for its key, message and DST", async function () {
      const key = makeKey("v");
      const other = makeKey("w");
      const message = ethers.id("message");
      const signature = sign(key.sk, message);
      expect(await this.mock.verify(key.publicKey, message, utf8(SIG_DST), signature)).to.be.true;
      expect(await this.mock.verify(other.publicKey, message, utf8(SIG_DST), signature)).to.be.false;
      expect(await this.mock.verify(key.publicKey, ethers.id("other"), utf8(SIG_DST), signature)).to.be.false;
      expect(await this.mock.verify(key.publicKey, message, utf8(POP_DST), signature)).to.be.false;
      expect(await this.mock.verify(key.publicKey, message, utf8(SIG_DST), new Uint8Array(256))).to.be.false;
      // a signature that is not a point of G2: the pairing precompile refuses it
      const bad = ethers.getBytes(signature);
      bad[255] ^= 1;
      expect(await this.mock.verify(key.publicKey, message, utf8(SIG_DST), bad)).to.be.false;
      const [valid, holds] = await this.mock.pairing2(
        key.publicKey,
        g2ToEip2537(hashToG2(message, SIG_DST)),
        g1ToEip2537(G1.BASE.negate()),
        bad,
      );
      expect([valid, holds]).to.deep.equal([false, false]);
    });

    it("pairing2 is e(a1, b1) * e(a2, b2) == 1", async function () {
      const a = makeKey("p");
      const h = hashToG2(ethers.id("x"), SIG_DST);
      const sig = signPoint(a.sk, ethers.id("x"));
      const negG1 = g1ToEip2537(G1.BASE.negate());
      expect(await this.mock.pairing2(a.publicKey, g2ToEip2537(h), negG1, g2ToEip2537(sig))).to.deep.equal([true, true]);
      expect(
        await this.mock.pairing2(a.publicKey, g2ToEip2537(h), negG1, g2ToEip2537(sig.add(G2.BASE))),
      ).to.deep.equal([true, false]);
    });
  });
});
