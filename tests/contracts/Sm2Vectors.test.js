// The SM2 suite's vectors (tests/vectors/sm2.json, written by scripts/make_sm2_vectors.py) checked by a
// third implementation, the JavaScript package sm-crypto, and the EIP-712 parts by ethers: SM3's
// published examples, the recommended-curve example of GB/T 32918.5 (sm-crypto has only that curve),
// Z_A built here from its definition, the license and key-binding signatures, and every signature
// that must fail. No chain is needed; SM2_VECTORS overrides the file's path.

const fs = require("fs");
const path = require("path");
const { ethers } = require("hardhat");
const { expect } = require("chai");
const { sm2, sm3 } = require("sm-crypto");

const VECTORS_PATH = process.env.SM2_VECTORS || path.join(__dirname, "..", "vectors", "sm2.json");
const MISSING = fs.existsSync(VECTORS_PATH) ? null : `the SM2 vectors are missing: ${VECTORS_PATH}`;
// a missing file fails (below), it is never skipped; the empty shape only lets this module load
const vectors = MISSING
  ? { curve: {}, sm3: [], standard: [], license: {}, keyAcceptance: {}, signatures: [] }
  : JSON.parse(fs.readFileSync(VECTORS_PATH, "utf8"));

const hex = (v) => v.replace(/^0x/, "").toLowerCase();
const bytes = (v) => Array.from(ethers.getBytes(v));
const text = (v) => ethers.toUtf8String(v);

/** Z_A = SM3(ENTL || ID || a || b || xG || yG || xA || yA), assembled here byte by byte. */
function za(identifier, publicKey) {
  const id = bytes(identifier);
  const entl = id.length * 8;
  const c = vectors.curve;
  const data = [entl >> 8, entl & 0xff, ...id, ...bytes(c.a), ...bytes(c.b), ...bytes(c.gx), ...bytes(c.gy), ...bytes(publicKey)];
  return "0x" + sm3(data);
}

/** sm-crypto's verification of an SM2 signature (with the identifier digest) of a message. */
function smVerify(message, signature, publicKey, identifier) {
  return sm2.doVerifySignature(bytes(message), hex(signature), "04" + hex(publicKey), { hash: true, userId: text(identifier) });
}

describe("SM2 vectors (sm-crypto)", function () {
  it("the vectors file exists", function () {
    expect(MISSING).to.equal(null);
  });

  it("SM3: the published examples", function () {
    expect(vectors.sm3.length).to.equal(2);
    for (const example of vectors.sm3) {
      expect("0x" + sm3(bytes(example.input))).to.equal(example.digest);
      expect("0x" + sm3(example.text)).to.equal(example.digest);
    }
  });

  it("GB/T 32918.5 Annex A: public key, Z_A, e and the published (r, s)", function () {
    const [example] = vectors.standard.filter((v) => v.label.includes("recommended"));
    expect(example.curve).to.deep.equal(vectors.curve);
    expect(sm2.getPublicKeyFromPrivateKey(hex(example.privateKey))).to.equal("04" + hex(example.publicKey));
    expect(za(example.id, example.publicKey)).to.equal(example.za);
    expect("0x" + sm3([...bytes(example.za), ...bytes(example.message)])).to.equal(example.e);
    expect(smVerify(example.message, example.signature, example.publicKey, example.id)).to.equal(true);
    // sm-crypto's own signature of the message verifies too (its k is random)
    const mine = sm2.doSignature(bytes(example.message), hex(example.privateKey), { hash: true, userId: example.idText });
    expect(smVerify(example.message, "0x" + mine, example.publicKey, example.id)).to.equal(true);
  });

  it("the license signature: M = 0x1901 || domainSeparator || digest", function () {
    const v = vectors.license;
    const domain = ethers.TypedDataEncoder.hashDomain({
      name: "E-License Registry",
      version: "1",
      chainId: v.chainId,
      verifyingContract: v.licenseRegistry,
    });
    expect(domain).to.equal(v.domainSeparator);
    expect(ethers.concat(["0x1901", domain, v.digest])).to.equal(v.message);
    expect(sm2.getPublicKeyFromPrivateKey(hex(v.privateKey))).to.equal("04" + hex(v.publicKey));
    expect(za(v.distinguishingId, v.publicKey)).to.equal(v.za);
    expect(smVerify(v.message, v.signature, v.publicKey, v.distinguishingId)).to.equal(true);
  });

  it("the key binding: the SM2 proof and the account's EIP-712 acceptance of the same typed data", function () {
    const v = vectors.keyAcceptance;
    const domain = { name: "E-License Trust Registry", version: "1", chainId: v.chainId, verifyingContract: v.trustRegistry };
    const types = {
      Sm2KeyAcceptance: [
        { name: "issuerId", type: "bytes32" },
        { name: "key", type: "address" },
        { name: "sm2PublicKey", type: "bytes" },
        { name: "distinguishingId", type: "bytes" },
      ],
    };
    const value = { issuerId: v.issuerId, key: v.account, sm2PublicKey: v.sm2PublicKey, distinguishingId: v.distinguishingId };
    expect(ethers.TypedDataEncoder.hashDomain(domain)).to.equal(v.domainSeparator);
    expect(ethers.TypedDataEncoder.from(types).hash(value)).to.equal(v.structHash);
    expect(ethers.concat(["0x1901", v.domainSeparator, v.structHash])).to.equal(v.message);
    expect(smVerify(v.message, v.proof, v.sm2PublicKey, v.distinguishingId)).to.equal(true);
    expect(ethers.verifyTypedData(domain, types, value, v.accountSignature)).to.equal(v.account);
    expect(new ethers.Wallet(v.accountPrivateKey).address).to.equal(v.account);
  });

  it("every signature case: valid ones verify, the others (ECDSA on the SM2 curve among them) do not", function () {
    expect(vectors.signatures.filter((c) => c.valid).length).to.equal(1);
    expect(vectors.signatures.some((c) => c.label.startsWith("ECDSA"))).to.equal(true);
    for (const c of vectors.signatures) {
      expect(smVerify(c.message, c.signature, c.publicKey, c.distinguishingId), c.label).to.equal(c.valid);
    }
  });
});
