// Shared fixture, constants and behaviours of the LicenseRegistry tests (tests/contracts/license/):
// the status operations and their shared behaviour, and licenses signed under the registry's
// EIP-712 domain and anchored in one batch.

const { ethers } = require("hardhat");
const { expect } = require("chai");
const { loadFixture, time } = require("@nomicfoundation/hardhat-network-helpers");

const {
  OPEN_END,
  REGION,
  accept,
  ISSUER_ID,
  OTHER_ISSUER_ID,
  LICENSE_TYPE,
  Status,
  deployFixture,
  INVALID_KEY_KINDS,
  makeInvalidKey,
  merkleRoot,
  merkleProof,
  makeDigests,
  makeBatch,
  deployMerkleProofVerifier,
  deployForwarder,
  txTimestamp,
} = require("./index");

const UNKNOWN_ISSUER_ID = ethers.id("issuer:unknown");
const MAX_BATCH_SIZE = 10000;
const REASON = 42;

/**
 * Deploy fixture + the test-only OpenZeppelin MerkleProof wrapper and call forwarder + a batch of 5
 * digests anchored by the issuer's key.
 */
async function licenseFixture() {
  const ctx = await loadFixture(deployFixture);
  const verifier = await deployMerkleProofVerifier();
  const forwarder = await deployForwarder();
  const batch = makeBatch(5, "status");
  await ctx.registry.connect(ctx.key).anchor(batch.root, batch.digests);
  return { ...ctx, verifier, forwarder, digests: batch.digests, root: batch.root };
}

function replacementOf(digest) {
  return ethers.keccak256(ethers.concat([digest, "0x01"]));
}

function enumName(value) {
  return Object.keys(Status).find((k) => Status[k] === BigInt(value));
}

// ------------------------------------------------------------------------------------------------
// Status operations, uniformly: `send(ctx, caller, issuerId, digests, reason)` and `data(...)` (the
// calldata); `prepare(ctx, digests)` brings `digests` into a status from which the operation is
// allowed; `to` is the resulting status. Supersede uses `replacementOf(digest)` as replacements.
// ------------------------------------------------------------------------------------------------

const OPERATIONS = {
  suspend: {
    event: "LicensesSuspended",
    to: Status.Suspended,
    args: (issuerId, digests, reason) => [issuerId, digests, reason],
    prepare: async () => {},
  },
  reinstate: {
    event: "LicensesReinstated",
    to: Status.Active,
    args: (issuerId, digests, reason) => [issuerId, digests, reason],
    prepare: async (ctx, digests) => {
      const nonZero = digests.filter((d) => d !== ethers.ZeroHash);
      if (nonZero.length > 0) await ctx.registry.connect(ctx.authority).suspend(ISSUER_ID, nonZero, 1);
    },
  },
  revoke: {
    event: "LicensesRevoked",
    to: Status.Revoked,
    args: (issuerId, digests, reason) => [issuerId, digests, reason],
    prepare: async () => {},
  },
  supersede: {
    event: "LicensesSuperseded",
    to: Status.Superseded,
    args: (issuerId, digests, reason) => [issuerId, digests, digests.map(replacementOf), reason],
    prepare: async () => {},
  },
};
for (const [name, op] of Object.entries(OPERATIONS)) {
  op.send = (ctx, caller, ...rest) => ctx.registry.connect(caller)[name](...op.args(...rest));
  op.data = (ctx, ...rest) => ctx.registry.interface.encodeFunctionData(name, op.args(...rest));
}

async function statusesOf(ctx, digests, issuerId = ISSUER_ID) {
  return Promise.all(digests.map((d) => ctx.registry.getStatus(issuerId, d)));
}

/** Who set a status and when, for a status never changed. */
const UNSET = { setBy: ethers.ZeroAddress, setAt: 0n };

/** Who set a status and when: `by` (a signer or an address) in the block of `tx` (a response or a promise). */
async function setBy(by, tx) {
  return { setBy: typeof by === "string" ? by : by.address, setAt: await txTimestamp(await tx) };
}

/** Every digest has exactly this status, reason, setter (`set`, as from `setBy`) and replacement. */
async function expectStatuses(ctx, digests, status, reason, set, replacements, issuerId = ISSUER_ID) {
  for (const [i, d] of digests.entries()) {
    expect(await ctx.registry.getStatus(issuerId, d)).to.deep.equal([
      status,
      BigInt(reason),
      set.setBy,
      set.setAt,
      replacements ? replacements[i] : ethers.ZeroHash,
    ]);
  }
}

/** Shared behaviour of suspend / reinstate / revoke / supersede. */
function shouldBehaveLikeStatusChange(name) {
  const op = OPERATIONS[name];

  describe(`${name} (shared behaviour)`, function () {
    for (const who of ["key", "authority"]) {
      it(`succeeds for ${who === "key" ? "a key of the issuer valid now" : "an authority of the issuer's region"}`, async function () {
        const caller = this[who];
        await op.prepare(this, this.digests);
        const tx = op.send(this, caller, ISSUER_ID, this.digests, REASON);
        if (name === "supersede") {
          await expect(tx)
            .to.emit(this.registry, op.event)
            .withArgs(ISSUER_ID, caller.address, REASON, this.digests, this.digests.map(replacementOf));
        } else {
          await expect(tx).to.emit(this.registry, op.event).withArgs(ISSUER_ID, caller.address, REASON, this.digests);
        }
        await expectStatuses(
          this,
          this.digests,
          op.to,
          REASON,
          await setBy(caller, tx),
          name === "supersede" ? this.digests.map(replacementOf) : undefined,
        );
      });
    }

    it("succeeds for another valid key of the issuer and for a key added by rotation", async function () {
      const now = BigInt(await time.latest());
      await this.trust.connect(this.authority).addKey(ISSUER_ID, this.spareKey.address, now, OPEN_END, accept(ISSUER_ID, this.spareKey.address));
      await this.trust.connect(this.key).rotateKey(ISSUER_ID, this.key.address, this.newKey.address, accept(ISSUER_ID, this.newKey.address));
      await op.prepare(this, this.digests);
      await expect(op.send(this, this.spareKey, ISSUER_ID, this.digests.slice(0, 2), REASON)).to.emit(
        this.registry,
        op.event,
      );
      await expect(op.send(this, this.newKey, ISSUER_ID, this.digests.slice(2), REASON)).to.emit(
        this.registry,
        op.event,
      );
      // ... while the rotated-out key has lost its power
      await expect(op.send(this, this.key, ISSUER_ID, this.digests, REASON))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryNotIssuerOrAuthority")
        .withArgs(ISSUER_ID, this.key.address);
    });

    const refused = {
      stranger: "a stranger",
      otherKey: "a valid key of ANOTHER issuer",
      otherAuthority: "an authority of a different region",
      admin: "the federation admin",
    };
    for (const [who, description] of Object.entries(refused)) {
      it(`reverts for ${description}`, async function () {
        await op.prepare(this, this.digests);
        const before = await statusesOf(this, this.digests);
        await expect(op.send(this, this[who], ISSUER_ID, this.digests, REASON))
          .to.be.revertedWithCustomError(this.registry, "LicenseRegistryNotIssuerOrAuthority")
          .withArgs(ISSUER_ID, this[who].address);
        expect(await statusesOf(this, this.digests)).to.deep.equal(before);
      });
    }

    for (const kind of INVALID_KEY_KINDS) {
      it(`reverts for ${kind} of the issuer`, async function () {
        await op.prepare(this, this.digests);
        const caller = await makeInvalidKey(this, kind);
        await expect(op.send(this, caller, ISSUER_ID, this.digests, REASON))
          .to.be.revertedWithCustomError(this.registry, "LicenseRegistryNotIssuerOrAuthority")
          .withArgs(ISSUER_ID, caller.address);
      });
    }

    it("reverts for a removed authority", async function () {
      await op.prepare(this, this.digests);
      await this.trust.connect(this.admin).removeRegionAuthority(REGION, this.authority.address);
      await expect(op.send(this, this.authority, ISSUER_ID, this.digests, REASON))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryNotIssuerOrAuthority")
        .withArgs(ISSUER_ID, this.authority.address);
    });

    it("each region's authority acts on its own issuers' licenses only", async function () {
      const d = [ethers.id("license of the other issuer")];
      await expect(op.send(this, this.authority, OTHER_ISSUER_ID, d, REASON))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryNotIssuerOrAuthority")
        .withArgs(OTHER_ISSUER_ID, this.authority.address);
      await expect(op.send(this, this.key, OTHER_ISSUER_ID, d, REASON))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryNotIssuerOrAuthority")
        .withArgs(OTHER_ISSUER_ID, this.key.address);
      if (name === "reinstate") await this.registry.connect(this.otherKey).suspend(OTHER_ISSUER_ID, d, 1);
      const tx = op.send(this, this.otherAuthority, OTHER_ISSUER_ID, d, REASON);
      await expect(tx).to.emit(this.registry, op.event);
      const set = await setBy(this.otherAuthority, tx);
      const replacements = name === "supersede" ? d.map(replacementOf) : undefined;
      await expectStatuses(this, d, op.to, REASON, set, replacements, OTHER_ISSUER_ID);
      await expectStatuses(this, d, Status.Active, 0, UNSET);
    });

    it("records a contract key as the actor (msg.sender, not tx.origin)", async function () {
      await op.prepare(this, this.digests);
      const forwarder = await this.forwarder.getAddress();
      const data = op.data(this, ISSUER_ID, this.digests, REASON);
      await expect(this.forwarder.connect(this.key).forward(await this.registry.getAddress(), data))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryNotIssuerOrAuthority")
        .withArgs(ISSUER_ID, forwarder);
      const now = BigInt(await time.latest());
      await this.trust.connect(this.authority).addKey(ISSUER_ID, forwarder, now, OPEN_END, accept(ISSUER_ID, forwarder, { by: this.admin.address }));
      const tx = this.forwarder.connect(this.stranger).forward(await this.registry.getAddress(), data);
      if (name === "supersede") {
        await expect(tx)
          .to.emit(this.registry, op.event)
          .withArgs(ISSUER_ID, forwarder, REASON, this.digests, this.digests.map(replacementOf));
      } else {
        await expect(tx).to.emit(this.registry, op.event).withArgs(ISSUER_ID, forwarder, REASON, this.digests);
      }
      // ... and as the status's `setBy`
      await expectStatuses(
        this,
        this.digests,
        op.to,
        REASON,
        await setBy(forwarder, tx),
        name === "supersede" ? this.digests.map(replacementOf) : undefined,
      );
    });

    it("reverts for an unknown issuer", async function () {
      await expect(op.send(this, this.authority, UNKNOWN_ISSUER_ID, this.digests, REASON))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryUnknownIssuer")
        .withArgs(UNKNOWN_ISSUER_ID);
    });

    it("reverts for an empty list", async function () {
      await expect(op.send(this, this.authority, ISSUER_ID, [], REASON)).to.be.revertedWithCustomError(
        this.registry,
        "LicenseRegistryEmptyBatch",
      );
    });

    it(`reverts for more than ${MAX_BATCH_SIZE} digests`, async function () {
      const digests = Array(MAX_BATCH_SIZE + 1).fill(ethers.ZeroHash);
      await expect(op.send(this, this.authority, ISSUER_ID, digests, REASON))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryBatchTooLarge")
        .withArgs(MAX_BATCH_SIZE + 1, MAX_BATCH_SIZE);
    });

    it("reverts for a zero digest, with its index, changing nothing", async function () {
      await op.prepare(this, this.digests);
      const before = await statusesOf(this, this.digests);
      await expect(op.send(this, this.authority, ISSUER_ID, [ethers.ZeroHash], REASON))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryZeroDigest")
        .withArgs(0);
      const digests = [this.digests[0], this.digests[1], ethers.ZeroHash, this.digests[2]];
      await expect(op.send(this, this.authority, ISSUER_ID, digests, REASON))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryZeroDigest")
        .withArgs(2);
      expect(await statusesOf(this, this.digests)).to.deep.equal(before);
    });

    it("changes only the status of the given issuer's licenses", async function () {
      await op.prepare(this, this.digests);
      await op.send(this, this.authority, ISSUER_ID, this.digests, REASON);
      await expectStatuses(this, this.digests, Status.Active, 0, UNSET, undefined, OTHER_ISSUER_ID);
    });

    it("still works for an inactive issuer", async function () {
      await op.prepare(this, this.digests);
      await this.trust.connect(this.authority).setIssuerActive(ISSUER_ID, false);
      const tx = op.send(this, this.key, ISSUER_ID, this.digests, REASON);
      await expect(tx).to.emit(this.registry, op.event);
      expect((await this.registry.getStatus(ISSUER_ID, this.digests[0])).setBy).to.equal(this.key.address);
    });
  });
}

// ------------------------------------------------------------------------------------------------
// Signed licenses: EIP-712 signatures under the registry's domain, anchored in one batch
// ------------------------------------------------------------------------------------------------

const TYPES = {
  License: [
    { name: "formatVersion", type: "uint16" },
    { name: "licenseType", type: "bytes32" },
    { name: "licenseId", type: "string" },
    { name: "issuerId", type: "bytes32" },
    { name: "validFrom", type: "uint32" },
    { name: "validTo", type: "uint32" },
    { name: "fieldCommitments", type: "bytes32[]" },
  ],
};

function header(i, tag = "A", issuerId = ISSUER_ID) {
  return {
    formatVersion: 1,
    licenseType: LICENSE_TYPE,
    licenseId: `91110000-${tag}-${String(i).padStart(6, "0")}`,
    issuerId,
    validFrom: 20000,
    validTo: 2 ** 32 - 1,
  };
}

async function domain(ctx) {
  const { chainId } = await ethers.provider.getNetwork();
  return {
    name: "E-License Registry",
    version: "1",
    chainId,
    verifyingContract: await ctx.registry.getAddress(),
  };
}

/**
 * `count` licenses of `issuerId` signed by `signer`, in one batch not anchored yet: with proofs and
 * signatures, and the batch's (ascending) digests and root.
 */
async function sign(ctx, count, signer, tag = "A", issuerId = ISSUER_ID) {
  const licenses = [];
  for (let i = 0; i < count; ++i) {
    const h = header(i, tag, issuerId);
    const fieldCommitments = makeDigests(3, `commitment-${tag}-${i}`);
    const value = { ...h, fieldCommitments };
    const digest = ethers.TypedDataEncoder.hashStruct("License", TYPES, value);
    const sig = ethers.Signature.from(await signer.signTypedData(await domain(ctx), TYPES, value));
    licenses.push({ header: h, fieldCommitments, digest, r: sig.r, vs: sig.yParityAndS });
  }
  licenses.sort((a, b) => (BigInt(a.digest) < BigInt(b.digest) ? -1 : 1));
  const digests = licenses.map((l) => l.digest);
  const root = merkleRoot(digests);
  licenses.forEach((l, i) => (l.proof = merkleProof(digests, i)));
  return { licenses, root, digests };
}

/**
 * `count` licenses of `issuerId` signed by `signer`, anchored in one batch by `anchorer`; with
 * proofs and signatures, the batch root and its anchoring time.
 */
async function issue(ctx, count, signer, anchorer = signer, tag = "A", issuerId = ISSUER_ID) {
  const { licenses, root, digests } = await sign(ctx, count, signer, tag, issuerId);
  await ctx.registry.connect(anchorer).anchor(root, digests);
  // the anchor is recorded for the anchoring key's issuer (not necessarily the one the licenses name)
  const anchoringIssuer = (await ctx.trust.getKey(anchorer.address)).issuerId;
  const { timestamp } = await ctx.registry.getAnchor(anchoringIssuer, root);
  return { licenses, root, digests, timestamp };
}

/** `checkLicense` of `license` in the batch `root`, as a license of `issuerId`. */
async function check(ctx, license, root, issuerId = ISSUER_ID) {
  return ctx.registry.checkLicense(issuerId, license.digest, license.r, license.vs, root, license.proof);
}

/** The all-zero result of `checkLicense` but for the signer. */
function notAnchored(signer) {
  return [false, signer, ethers.ZeroHash, false, 0n, Status.Active];
}

module.exports = {
  UNKNOWN_ISSUER_ID,
  MAX_BATCH_SIZE,
  REASON,
  licenseFixture,
  replacementOf,
  enumName,
  OPERATIONS,
  statusesOf,
  UNSET,
  setBy,
  expectStatuses,
  shouldBehaveLikeStatusChange,
  TYPES,
  header,
  domain,
  sign,
  issue,
  check,
  notAnchored,
};
