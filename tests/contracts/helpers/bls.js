// BLS12-381 in JavaScript for the contract tests: an independent implementation (@noble/curves)
// making co-signing keys, proofs of possession, signatures and aggregates as docs/joint.md defines
// them (IETF BLS signatures, ciphersuite BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_, public keys
// in G1, signatures in G2), converted to the EIP-2537 encodings the contracts take.

const { ethers } = require("hardhat");
const { bls12_381: bls } = require("@noble/curves/bls12-381");

const SIG_DST = "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";
const POP_DST = "BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

const P = bls.fields.Fp.ORDER;
const R = bls.fields.Fr.ORDER;
const G1 = bls.G1.ProjectivePoint;
const G2 = bls.G2.ProjectivePoint;

/** A field element as a 64-byte EIP-2537 word (16 zero bytes, then 48 big-endian bytes). */
function fpWord(value) {
  return ethers.toBeHex(value, 64);
}

/** A G1 point in the 128-byte EIP-2537 encoding (all zero for infinity). */
function g1ToEip2537(point) {
  if (point.equals(G1.ZERO)) return ethers.hexlify(new Uint8Array(128));
  const { x, y } = point.toAffine();
  return ethers.concat([fpWord(x), fpWord(y)]);
}

/** A G2 point in the 256-byte EIP-2537 encoding (x.c0, x.c1, y.c0, y.c1). */
function g2ToEip2537(point) {
  if (point.equals(G2.ZERO)) return ethers.hexlify(new Uint8Array(256));
  const { x, y } = point.toAffine();
  return ethers.concat([fpWord(x.c0), fpWord(x.c1), fpWord(y.c0), fpWord(y.c1)]);
}

/** Raw 128-byte G1 encoding of (x, y), whether or not a point. */
function rawG1(x, y) {
  return ethers.concat([fpWord(x), fpWord(y)]);
}

/** The 48-byte ZCash compressed form of a G1 point. */
function compressG1(point) {
  return ethers.hexlify(point.toRawBytes(true));
}

/** `keccak256(compressed public key)`: the co-signing key id. */
function keyIdOf(point) {
  return ethers.keccak256(compressG1(point));
}

function toBytes(message) {
  return typeof message === "string" && !message.startsWith("0x")
    ? ethers.toUtf8Bytes(message)
    : ethers.getBytes(message);
}

/** hash_to_curve to G2 (RFC 9380, BLS12381G2_XMD:SHA-256_SSWU_RO_) with `dst`. */
function hashToG2(message, dst) {
  return G2.fromAffine(bls.G2.hashToCurve(toBytes(message), { DST: dst }).toAffine());
}

/**
 * A co-signing key pair from a label (deterministic, so fixtures are stable): secret scalar,
 * public key point, its EIP-2537 encoding, compressed form, key id, and proof of possession.
 */
function makeKey(label) {
  const sk = (BigInt(ethers.id(`co-signing key:${label}`)) % (R - 1n)) + 1n;
  return keyFromSecret(sk);
}

function keyFromSecret(sk) {
  const pk = G1.BASE.multiply(sk);
  return {
    sk,
    pk,
    publicKey: g1ToEip2537(pk),
    compressed: compressG1(pk),
    keyId: keyIdOf(pk),
    proof: g2ToEip2537(popProve(sk, pk)),
  };
}

/** Sign(sk, message) as a G2 point (DST of the POP ciphersuite by default). */
function signPoint(sk, message, dst = SIG_DST) {
  return hashToG2(message, dst).multiply(sk);
}

/** Sign(sk, message) in the 256-byte encoding. */
function sign(sk, message, dst = SIG_DST) {
  return g2ToEip2537(signPoint(sk, message, dst));
}

/** PopProve(sk): a signature of the 48-byte compressed public key with the POP DST (a point). */
function popProve(sk, pk = G1.BASE.multiply(sk)) {
  return hashToG2(toBytes(compressG1(pk)), POP_DST).multiply(sk);
}

/** The aggregate (sum) of G2 signature points, encoded. */
function aggregate(points) {
  return g2ToEip2537(points.reduce((sum, p) => sum.add(p), G2.ZERO));
}

/** Each key signs `digest` (32 bytes); returns the encoded aggregate. */
function coSign(keys, digest, dst = SIG_DST) {
  return aggregate(keys.map((k) => signPoint(k.sk, digest, dst)));
}

/** Noble's own verification of FastAggregateVerify (independent of the contracts). */
function fastAggregateVerify(keys, message, signatureHex) {
  const pkSum = keys.reduce((sum, k) => sum.add(k.pk), G1.ZERO);
  const sig = g2FromEip2537(signatureHex);
  const h = hashToG2(message, SIG_DST);
  return bls.fields.Fp12.eql(bls.pairing(pkSum, h), bls.pairing(G1.BASE, sig));
}

/** Parse a 256-byte EIP-2537 G2 encoding into a point. */
function g2FromEip2537(hex) {
  const b = ethers.getBytes(hex);
  const word = (i) => BigInt(ethers.hexlify(b.slice(64 * i, 64 * i + 64)));
  const Fp2 = bls.fields.Fp2;
  return G2.fromAffine({ x: Fp2.create({ c0: word(0), c1: word(1) }), y: Fp2.create({ c0: word(2), c1: word(3) }) });
}

module.exports = {
  bls,
  P,
  R,
  G1,
  G2,
  SIG_DST,
  POP_DST,
  fpWord,
  rawG1,
  g1ToEip2537,
  g2ToEip2537,
  g2FromEip2537,
  compressG1,
  keyIdOf,
  hashToG2,
  makeKey,
  keyFromSecret,
  signPoint,
  sign,
  popProve,
  aggregate,
  coSign,
  fastAggregateVerify,
};
