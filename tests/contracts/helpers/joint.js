// Shared fixtures and helpers of the joint-issuance tests (docs/joint.md): departments with
// signing keys and BLS co-signing keys, bundles, their EIP-712 digest computed in JS (ethers'
// TypedDataEncoder, independently of the contract), and co-signatures made with @noble/curves.

const { ethers } = require("hardhat");
const { loadFixture, time } = require("@nomicfoundation/hardhat-network-helpers");

const { OPEN_END, REGION, ISSUER_ID, OTHER_ISSUER_ID, LICENSE_TYPE, usccId, makeUscc, accept, deployFixture } =
  require("./index");
const { makeKey, coSign, SIG_DST } = require("./bls");

const FOOD_PERMIT = ethers.id("license-type:food-business-permit");
const FIRE_PERMIT = ethers.id("license-type:fire-safety-permit");
const HEALTH_PERMIT = ethers.id("license-type:public-health-permit");
const SIGN_PERMIT = ethers.id("license-type:outdoor-sign-permit");
const JOINT_TYPES_LIST = [LICENSE_TYPE, FOOD_PERMIT, FIRE_PERMIT, HEALTH_PERMIT, SIGN_PERMIT];

/** EIP-712 types of the bundle (docs/joint.md). */
const JOINT_TYPES = {
  JointBundle: [
    { name: "applicationId", type: "bytes32" },
    { name: "applicant", type: "bytes32" },
    { name: "members", type: "JointMember[]" },
    { name: "departments", type: "bytes32[]" },
  ],
  JointMember: [
    { name: "digest", type: "bytes32" },
    { name: "licenseType", type: "bytes32" },
    { name: "issuerId", type: "bytes32" },
  ],
};

/**
 * The fixture of deployFixture plus five Beijing departments (ISSUER_ID and four more), each with a
 * signing key valid now, a co-signing key valid now, open-ended, and permission to issue every type
 * of JOINT_TYPES_LIST; OTHER_ISSUER_ID (Shanghai) gets a co-signing key too.
 * `departments[i] = { issuerId, signer, coKey }`, sorted by issuer id.
 */
async function jointFixture() {
  const ctx = await loadFixture(deployFixture);
  const { trust, authority, otherAuthority, key, accounts } = ctx;
  const now = BigInt(await time.latest());
  const departments = [{ issuerId: ISSUER_ID, signer: key, coKey: makeKey("department 0") }];
  for (let i = 1; i < 5; ++i) {
    const issuerId = usccId(makeUscc(110000, `MB000000${i}`));
    await trust.connect(authority).registerIssuer(issuerId, REGION, `部门 ${i}`, ethers.id(`profile ${i}`), "");
    const signer = accounts[i - 1];
    await trust.connect(authority).addKey(issuerId, signer.address, now, OPEN_END, accept(issuerId, signer.address));
    departments.push({ issuerId, signer, coKey: makeKey(`department ${i}`) });
  }
  for (const d of departments) {
    await trust.connect(authority).addCoSigningKey(d.issuerId, d.coKey.publicKey, d.coKey.proof, now, OPEN_END);
    for (const type of JOINT_TYPES_LIST) await trust.connect(authority).permitLicenseType(d.issuerId, type, now, OPEN_END);
  }
  departments.sort((a, b) => (BigInt(a.issuerId) < BigInt(b.issuerId) ? -1 : 1));
  const other = { issuerId: OTHER_ISSUER_ID, signer: ctx.otherKey, coKey: makeKey("other department") };
  await trust.connect(otherAuthority).addCoSigningKey(other.issuerId, other.coKey.publicKey, other.coKey.proof, now, OPEN_END);
  await trust.connect(otherAuthority).permitLicenseType(other.issuerId, LICENSE_TYPE, now, OPEN_END);
  return { ...ctx, departments, other };
}

const byValue = (a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0);

/**
 * A bundle (the contract's JointBundle) of `members` (`{ digest, licenseType, issuerId }`, sorted
 * here by digest) co-signed by `departments` (issuer ids, sorted here) unless `sorted: false`.
 */
function makeBundle(members, departments, { seed = "bundle", sorted = true } = {}) {
  const ms = sorted ? [...members].sort((a, b) => byValue(a.digest, b.digest)) : members;
  return {
    applicationId: ethers.id(`JA${seed}`),
    applicant: ethers.id(`applicant:${seed}`),
    digests: ms.map((m) => m.digest),
    licenseTypes: ms.map((m) => m.licenseType),
    issuerIds: ms.map((m) => m.issuerId),
    departments: sorted ? [...departments].sort(byValue) : departments,
  };
}

/** A member license of `issuerId` of `licenseType` with a digest made from `label`. */
function member(issuerId, licenseType, label) {
  return { digest: ethers.id(`member:${label}`), licenseType, issuerId };
}

/** The registry's EIP-712 domain (its address by default). */
async function registryDomain(registry, address) {
  const { chainId } = await ethers.provider.getNetwork();
  return {
    name: "E-License Registry",
    version: "1",
    chainId,
    verifyingContract: address || (await registry.getAddress()),
  };
}

/** The bundle digest computed in JS (ethers' EIP-712 encoder) under `domain`. */
function bundleDigestOf(bundle, domain) {
  const members = bundle.digests.map((digest, i) => ({
    digest,
    licenseType: bundle.licenseTypes[i],
    issuerId: bundle.issuerIds[i],
  }));
  return ethers.TypedDataEncoder.hash(domain, JOINT_TYPES, {
    applicationId: bundle.applicationId,
    applicant: bundle.applicant,
    members,
    departments: bundle.departments,
  });
}

/** The departments' co-signing keys concatenated in the bundle's department order. */
function publicKeysOf(bundle, coKeys) {
  return ethers.concat(bundle.departments.map((id) => coKeys.get(id).publicKey));
}

/** Map issuer id -> co-signing key of the fixture's departments (and the other region's). */
function coKeysOf(ctx) {
  const map = new Map(ctx.departments.map((d) => [d.issuerId, d.coKey]));
  map.set(ctx.other.issuerId, ctx.other.coKey);
  return map;
}

/**
 * Everything `anchorJoint` takes for `bundle`, co-signed by the fixture's departments' keys:
 * `{ bundle, digest, publicKeys, signature }`. `signers` overrides the keys that sign (default:
 * each department's key), `keys` the public keys given.
 */
async function coSigned(ctx, bundle, { signers, keys, domain } = {}) {
  const coKeys = coKeysOf(ctx);
  const digest = bundleDigestOf(bundle, domain || (await registryDomain(ctx.registry)));
  const signing = signers || bundle.departments.map((id) => coKeys.get(id));
  return {
    bundle,
    digest,
    publicKeys: keys || publicKeysOf(bundle, coKeys),
    signature: coSign(signing, digest, SIG_DST),
  };
}

/** `registry.connect(sender).anchorJoint(...)` of a `coSigned` result. */
function anchorJoint(ctx, sender, signed) {
  return ctx.registry.connect(sender).anchorJoint(signed.bundle, signed.publicKeys, signed.signature);
}

module.exports = {
  FOOD_PERMIT,
  FIRE_PERMIT,
  HEALTH_PERMIT,
  SIGN_PERMIT,
  JOINT_TYPES,
  JOINT_TYPES_LIST,
  jointFixture,
  makeBundle,
  member,
  registryDomain,
  bundleDigestOf,
  publicKeysOf,
  coKeysOf,
  coSigned,
  anchorJoint,
};
