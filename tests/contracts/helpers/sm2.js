// SM2 keys bound to accounts (`addSm2Key`, `rotateSm2Key`): real SM2 key pairs and proofs of
// possession made with sm-crypto (an independent JavaScript SM2/SM3 implementation), and the
// account's EIP-712 acceptance of `Sm2KeyAcceptance(bytes32 issuerId,address key,bytes sm2PublicKey,
// bytes distinguishingId)` under the trust registry's domain.
//
// The proof is the SM2 key's signature (with SM3 and its ID's Z_A) of the EIP-712 *encoded message*
// `0x1901 || domainSeparator || hashStruct(Sm2KeyAcceptance)`, 64 bytes `r || s`. The contract checks
// only its shape; verifiers check it. Each proof made here is verified with sm-crypto before use.

const { ethers } = require("hardhat");
const { sm2 } = require("sm-crypto");

const { acceptanceDomain, signingKeyOf } = require("./index");

/** The SM2 curve (GB/T 32918.5): field prime, coefficients, order. */
const SM2_P = 0xfffffffeffffffffffffffffffffffffffffffff00000000ffffffffffffffffn;
const SM2_A = SM2_P - 3n;
const SM2_B = 0x28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93n;
const SM2_N = 0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123n;

const DEFAULT_ID = "1234567812345678";
const MAX_CERTIFICATE = 2048;

const SM2_KEY_ACCEPTANCE_TYPES = {
  Sm2KeyAcceptance: [
    { name: "issuerId", type: "bytes32" },
    { name: "key", type: "address" },
    { name: "sm2PublicKey", type: "bytes" },
    { name: "distinguishingId", type: "bytes" },
  ],
};

/** A fresh SM2 key pair: `privateKey` (hex, no 0x), `publicKey` (0x || X || Y, 64 bytes). */
function makeSm2Key() {
  const pair = sm2.generateKeyPairHex();
  if (pair.publicKey.length !== 130 || !pair.publicKey.startsWith("04")) throw new Error("unexpected SM2 key form");
  return { privateKey: pair.privateKey, publicKey: "0x" + pair.publicKey.slice(2) };
}

/** The EIP-712 encoded message (66 bytes) whose keccak is `sm2KeyAcceptanceDigest`. */
function sm2AcceptanceMessage(issuerId, key, publicKey, distinguishingId, domain = acceptanceDomain) {
  const structHash = ethers.TypedDataEncoder.from(SM2_KEY_ACCEPTANCE_TYPES).hash({
    issuerId,
    key,
    sm2PublicKey: publicKey,
    distinguishingId,
  });
  return ethers.concat(["0x1901", ethers.TypedDataEncoder.hashDomain(domain), structHash]);
}

/** The digest the account signs (as `TrustRegistry.sm2KeyAcceptanceDigest`). */
function sm2AcceptanceDigest(issuerId, key, publicKey, distinguishingId, domain = acceptanceDomain) {
  return ethers.keccak256(sm2AcceptanceMessage(issuerId, key, publicKey, distinguishingId, domain));
}

/** The ID as bytes (hex) from a UTF-8 string. */
function idBytes(id) {
  return ethers.hexlify(ethers.toUtf8Bytes(id));
}

/**
 * The SM2 key's proof of possession for binding it to account `key` of `issuerId` (64 bytes, hex),
 * with ID `id` (a UTF-8 string: sm-crypto takes the user id as text). Verified before it is returned.
 */
function sm2Proof(sm2Key, issuerId, key, id = DEFAULT_ID, domain = acceptanceDomain) {
  const message = ethers.getBytes(sm2AcceptanceMessage(issuerId, key, sm2Key.publicKey, idBytes(id), domain));
  const publicKey = "04" + sm2Key.publicKey.slice(2);
  const signature = sm2.doSignature(Array.from(message), sm2Key.privateKey, { hash: true, publicKey, userId: id });
  if (!sm2.doVerifySignature(Array.from(message), signature, publicKey, { hash: true, userId: id })) {
    throw new Error("sm-crypto made a proof it does not verify");
  }
  return "0x" + signature;
}

/**
 * An `Sm2KeyRegistration` of a fresh (or the given) SM2 key for account `key` of `issuerId`, with
 * its proof; `certificate` default empty. Returns `{ sm2Key, registration, keyHash }`.
 */
function sm2Registration(issuerId, key, { sm2Key = makeSm2Key(), id = DEFAULT_ID, certificate = "0x" } = {}) {
  const registration = {
    publicKey: sm2Key.publicKey,
    distinguishingId: idBytes(id),
    proof: sm2Proof(sm2Key, issuerId, key, id),
    certificate,
  };
  return { sm2Key, registration, keyHash: sm2KeyHash(registration) };
}

/** keccak256(publicKey || distinguishingId): what `getSm2Key` returns for a binding. */
function sm2KeyHash(registration) {
  return ethers.keccak256(ethers.concat([registration.publicKey, registration.distinguishingId]));
}

/**
 * Account `key`'s acceptance (65-byte signature, hex) of being bound to `registration`'s SM2 key as a
 * key of `issuerId`, signed by `by` (default: the account itself) under `domain`; "0x" when `by`'s
 * private key is unknown.
 */
function sm2Accept(issuerId, key, registration, { by = key, domain = acceptanceDomain } = {}) {
  const signingKey = signingKeyOf(by);
  if (signingKey === undefined) return "0x";
  const digest = sm2AcceptanceDigest(issuerId, key, registration.publicKey, registration.distinguishingId, domain);
  return signingKey.sign(digest).serialized;
}

/** The registration's fields, in the order of the `Sm2KeyBound` event's data. */
function boundArgs(registration) {
  return [registration.publicKey, registration.distinguishingId, registration.proof, registration.certificate];
}

/** 32-byte big-endian hex of a bigint. */
function word(value) {
  return ethers.toBeHex(value, 32);
}

/** x and y of a 64-byte public key as bigints. */
function coordinates(publicKey) {
  const bytes = ethers.getBytes(publicKey);
  return [BigInt(ethers.hexlify(bytes.slice(0, 32))), BigInt(ethers.hexlify(bytes.slice(32, 64)))];
}

function modPow(base, exponent, modulus) {
  let result = 1n;
  base %= modulus;
  while (exponent > 0n) {
    if (exponent & 1n) result = (result * base) % modulus;
    base = (base * base) % modulus;
    exponent >>= 1n;
  }
  return result;
}

/**
 * A point of the SM2 curve with a small x (so that x + p still fits in 32 bytes): the smallest
 * x >= `from` whose right-hand side is a square (p = 3 mod 4, so y = rhs^((p+1)/4)).
 */
function smallPoint(from = 1n) {
  for (let x = from; ; ++x) {
    const rhs = (((x * x * x + SM2_A * x + SM2_B) % SM2_P) + SM2_P) % SM2_P;
    const y = modPow(rhs, (SM2_P + 1n) / 4n, SM2_P);
    if ((y * y) % SM2_P === rhs) return [x, y];
  }
}

module.exports = {
  SM2_P,
  SM2_A,
  SM2_B,
  SM2_N,
  DEFAULT_ID,
  MAX_CERTIFICATE,
  SM2_KEY_ACCEPTANCE_TYPES,
  makeSm2Key,
  sm2AcceptanceMessage,
  sm2AcceptanceDigest,
  idBytes,
  sm2Proof,
  sm2Registration,
  sm2KeyHash,
  sm2Accept,
  boundArgs,
  word,
  coordinates,
  smallPoint,
};
