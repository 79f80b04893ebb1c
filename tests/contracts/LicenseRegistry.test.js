const hre = require("hardhat");
const { ethers } = hre;
const { expect } = require("chai");
const { loadFixture, time } = require("@nomicfoundation/hardhat-network-helpers");

const {
  OPEN_END,
  REGION,
  ISSUER_ID,
  OTHER_ISSUER_ID,
  LICENSE_TYPE,
  Status,
  INVALID_KEY_KINDS,
  deployFixture,
  deployMerkleProofVerifier,
  deployForwarder,
  makeInvalidKey,
  leafOf,
  hashPair,
  merkleLevels,
  merkleRoot,
  merkleProof,
  processProof,
  verifyProof,
  makeDigests,
  makeBatch,
  nextTimestamp,
  txTimestamp,
  eventsOf,
  inOneBlock,
  outcomeOf,
  accept,
  usccId,
} = require("./helpers");

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

// ------------------------------------------------------------------------------------------------

describe("LicenseRegistry", function () {
  beforeEach(async function () {
    Object.assign(this, await loadFixture(licenseFixture));
  });

  describe("deployment", function () {
    it("links the trust registry and sets the batch limit", async function () {
      expect(await this.registry.trustRegistry()).to.equal(await this.trust.getAddress());
      expect(await this.registry.MAX_BATCH_SIZE()).to.equal(BigInt(MAX_BATCH_SIZE));
    });
  });

  // ----------------------------------------------------------------------------------------------
  // JS Merkle helper (sanity of the reference the contract is compared with)
  // ----------------------------------------------------------------------------------------------

  describe("Merkle helper", function () {
    it("builds the sorted-pair tree with the odd last node carried up", function () {
      const d = makeDigests(7, "shape");
      const l = d.map(leafOf);
      expect(l[0]).to.equal(ethers.keccak256(d[0]));
      expect(merkleRoot(d.slice(0, 1))).to.equal(l[0]);
      expect(merkleRoot(d.slice(0, 2))).to.equal(hashPair(l[0], l[1]));
      expect(merkleRoot(d.slice(0, 3))).to.equal(hashPair(hashPair(l[0], l[1]), l[2]));
      expect(merkleRoot(d.slice(0, 5))).to.equal(
        hashPair(hashPair(hashPair(l[0], l[1]), hashPair(l[2], l[3])), l[4]),
      );
      expect(merkleRoot(d)).to.equal(
        hashPair(hashPair(hashPair(l[0], l[1]), hashPair(l[2], l[3])), hashPair(hashPair(l[4], l[5]), l[6])),
      );
      // sorted pair: order of the two children does not matter
      expect(hashPair(l[0], l[1])).to.equal(hashPair(l[1], l[0]));
      const [lo, hi] = BigInt(l[0]) < BigInt(l[1]) ? [l[0], l[1]] : [l[1], l[0]];
      expect(hashPair(l[0], l[1])).to.equal(ethers.keccak256(ethers.concat([lo, hi])));
    });

    it("gives proofs without a sibling where a node is carried up", function () {
      const d = makeDigests(7, "shape");
      const levels = merkleLevels(d);
      expect(levels.map((level) => level.length)).to.deep.equal([7, 4, 2, 1]);
      expect(merkleProof(d, 6)).to.have.length(2); // no sibling at the leaf level
      expect(merkleProof(d, 0)).to.have.length(3);
      expect(merkleProof(d.slice(0, 1), 0)).to.deep.equal([]);
    });

    it("rejects digests that are not strictly ascending", function () {
      const d = makeDigests(3, "shape");
      expect(() => merkleRoot([d[1], d[0]])).to.throw();
      expect(() => merkleRoot([d[0], d[0]])).to.throw();
      expect(() => merkleRoot([ethers.ZeroHash])).to.throw();
    });
  });

  // ----------------------------------------------------------------------------------------------
  // anchor
  // ----------------------------------------------------------------------------------------------

  describe("anchor", function () {
    for (const n of [1, 2, 3, 4, 5, 7, 8, 16, 33, 100]) {
      it(`anchors a batch of ${n} whose root matches the JS tree; every proof verifies`, async function () {
        const { digests, root } = makeBatch(n, `anchor-${n}`);
        expect(await this.registry.connect(this.key).anchor.staticCall(root, digests)).to.equal(ISSUER_ID);

        const tx = this.registry.connect(this.key).anchor(root, digests);
        await expect(tx).to.emit(this.registry, "BatchAnchored").withArgs(root, ISSUER_ID, this.key.address, digests);
        const receipt = await (await tx).wait();
        const block = await ethers.provider.getBlock(receipt.blockNumber);
        expect(await this.registry.getAnchor(ISSUER_ID, root)).to.deep.equal([
          this.key.address,
          BigInt(block.timestamp),
          BigInt(receipt.blockNumber),
          BigInt(n),
        ]);

        // the log is exactly `BatchAnchored(root, issuerId, key, digests)`, ABI-encoded
        expect(receipt.logs).to.have.length(1);
        const [log] = receipt.logs;
        const topic = this.registry.interface.getEvent("BatchAnchored").topicHash;
        expect(log.topics).to.deep.equal([
          topic,
          root,
          ISSUER_ID,
          ethers.zeroPadValue(this.key.address.toLowerCase(), 32),
        ]);
        expect(log.data).to.equal(ethers.AbiCoder.defaultAbiCoder().encode(["bytes32[]"], [digests]));

        // proofs: in JS (OpenZeppelin's processProof) and on chain with OpenZeppelin MerkleProof
        const levels = merkleLevels(digests);
        for (const [i, digest] of digests.entries()) {
          const proof = merkleProof(digests, i, levels);
          const leaf = leafOf(digest);
          expect(verifyProof(proof, root, leaf)).to.be.true;
          expect(await this.verifier.verify(proof, root, leaf)).to.be.true;
          expect(await this.verifier.processProof(proof, leaf)).to.equal(processProof(proof, leaf));
          expect(await this.registry.isInBatch(root, proof, digest)).to.be.true;
        }
        // and a proof does not verify another digest
        if (n > 1) {
          const proof = merkleProof(digests, 0, levels);
          expect(verifyProof(proof, root, leafOf(digests[1]))).to.be.false;
          expect(await this.verifier.verify(proof, root, leafOf(digests[1]))).to.be.false;
        }
        expect(await this.verifier.verify(merkleProof(digests, 0, levels), root, digests[0])).to.equal(
          false, // the leaf is keccak256(digest), not the digest itself
        );
      });
    }

    it("records the key and its issuer for a key of another issuer, and for a key added by rotation", async function () {
      const a = makeBatch(3, "other-issuer");
      await expect(this.registry.connect(this.otherKey).anchor(a.root, a.digests))
        .to.emit(this.registry, "BatchAnchored")
        .withArgs(a.root, OTHER_ISSUER_ID, this.otherKey.address, a.digests);
      expect((await this.registry.getAnchor(OTHER_ISSUER_ID, a.root)).key).to.equal(this.otherKey.address);
      expect((await this.registry.getAnchor(ISSUER_ID, a.root)).key).to.equal(ethers.ZeroAddress);

      await this.trust.connect(this.key).rotateKey(ISSUER_ID, this.key.address, this.newKey.address, accept(ISSUER_ID, this.newKey.address));
      const b = makeBatch(3, "rotated");
      await expect(this.registry.connect(this.newKey).anchor(b.root, b.digests))
        .to.emit(this.registry, "BatchAnchored")
        .withArgs(b.root, ISSUER_ID, this.newKey.address, b.digests);
      const anchor = await this.registry.getAnchor(ISSUER_ID, b.root);
      expect(anchor.key).to.equal(this.newKey.address);
      expect(anchor.count).to.equal(3n);
    });

    it("records a contract key (msg.sender, not tx.origin) in the event and the anchor", async function () {
      const forwarder = await this.forwarder.getAddress();
      const registry = await this.registry.getAddress();
      const { digests, root } = makeBatch(4, "contract-key");
      const data = this.registry.interface.encodeFunctionData("anchor", [root, digests]);
      await expect(this.forwarder.connect(this.key).forward(registry, data))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryUnknownKey")
        .withArgs(forwarder);
      const now = BigInt(await time.latest());
      await this.trust.connect(this.authority).addKey(ISSUER_ID, forwarder, now, OPEN_END, accept(ISSUER_ID, forwarder, { by: this.admin.address }));
      await expect(this.forwarder.connect(this.stranger).forward(registry, data))
        .to.emit(this.registry, "BatchAnchored")
        .withArgs(root, ISSUER_ID, forwarder, digests);
      expect((await this.registry.getAnchor(ISSUER_ID, root)).key).to.equal(forwarder);
    });

    it("accepts a key at exactly validFrom and refuses it at exactly validUntil", async function () {
      const from = BigInt(await time.latest()) + 100n;
      const until = from + 100n;
      await this.trust.connect(this.authority).addKey(ISSUER_ID, this.newKey.address, from, until, accept(ISSUER_ID, this.newKey.address));
      const asNewKey = this.registry.connect(this.newKey);

      const a = makeBatch(2, "window-a");
      await time.setNextBlockTimestamp(from - 1n);
      await expect(asNewKey.anchor(a.root, a.digests))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryKeyNotValid")
        .withArgs(ISSUER_ID, this.newKey.address, from - 1n);
      await time.setNextBlockTimestamp(from);
      await expect(asNewKey.anchor(a.root, a.digests)).to.emit(this.registry, "BatchAnchored");
      expect((await this.registry.getAnchor(ISSUER_ID, a.root)).timestamp).to.equal(from);

      const b = makeBatch(2, "window-b");
      await time.setNextBlockTimestamp(until - 1n);
      await expect(asNewKey.anchor(b.root, b.digests)).to.emit(this.registry, "BatchAnchored");

      const c = makeBatch(2, "window-c");
      await time.setNextBlockTimestamp(until);
      await expect(asNewKey.anchor(c.root, c.digests))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryKeyNotValid")
        .withArgs(ISSUER_ID, this.newKey.address, until);
    });

    it("reverts for the zero root", async function () {
      const { digests } = makeBatch(2, "zero-root");
      await expect(
        this.registry.connect(this.key).anchor(ethers.ZeroHash, digests),
      ).to.be.revertedWithCustomError(this.registry, "LicenseRegistryZeroRoot");
    });

    it("reverts for an empty batch", async function () {
      await expect(
        this.registry.connect(this.key).anchor(ethers.id("root"), []),
      ).to.be.revertedWithCustomError(this.registry, "LicenseRegistryEmptyBatch");
    });

    it(`reverts for ${MAX_BATCH_SIZE + 1} digests`, async function () {
      // 10001 digests are 320 kB of calldata: too much for a public mempool, but the Hardhat
      // network accepts it (gas under the calldata floor is ~12.8M, below the 2^24 tx gas cap).
      const { digests, root } = makeBatch(MAX_BATCH_SIZE + 1, "too-large");
      await expect(this.registry.connect(this.key).anchor(root, digests))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryBatchTooLarge")
        .withArgs(MAX_BATCH_SIZE + 1, MAX_BATCH_SIZE);
      // the size is checked before anything else about the digests
      await expect(this.registry.connect(this.key).anchor(root, Array(MAX_BATCH_SIZE + 1).fill(ethers.ZeroHash)))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryBatchTooLarge")
        .withArgs(MAX_BATCH_SIZE + 1, MAX_BATCH_SIZE);
    });

    it("reverts for a root its issuer anchored before, with the same key or another key of the issuer", async function () {
      await expect(this.registry.connect(this.key).anchor(this.root, this.digests))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryBatchExists")
        .withArgs(ISSUER_ID, this.root);
      await this.trust
        .connect(this.key)
        .rotateKey(ISSUER_ID, this.key.address, this.newKey.address, accept(ISSUER_ID, this.newKey.address));
      await expect(this.registry.connect(this.newKey).anchor(this.root, this.digests))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryBatchExists")
        .withArgs(ISSUER_ID, this.root);
    });

    describe("anchors are per issuer: another issuer's anchor of the same root neither blocks nor counts", function () {
      it("another issuer anchoring the root first does not block the owner's anchor", async function () {
        const { digests, root } = makeBatch(5, "victim");
        // any valid key of another department anchors the victim's exact root first
        await expect(this.registry.connect(this.otherKey).anchor(root, digests))
          .to.emit(this.registry, "BatchAnchored")
          .withArgs(root, OTHER_ISSUER_ID, this.otherKey.address, digests);
        expect((await this.registry.getAnchor(ISSUER_ID, root)).key).to.equal(ethers.ZeroAddress);
        // the owner's anchor still goes through, recorded for the owner
        const ts = await nextTimestamp();
        const tx = this.registry.connect(this.key).anchor(root, digests);
        await expect(tx).to.emit(this.registry, "BatchAnchored").withArgs(root, ISSUER_ID, this.key.address, digests);
        const receipt = await (await tx).wait();
        expect(await this.registry.getAnchor(ISSUER_ID, root)).to.deep.equal([
          this.key.address,
          ts,
          BigInt(receipt.blockNumber),
          5n,
        ]);
        expect((await this.registry.getAnchor(OTHER_ISSUER_ID, root)).key).to.equal(this.otherKey.address);
        // each issuer may anchor the root once
        await expect(this.registry.connect(this.otherKey).anchor(root, digests))
          .to.be.revertedWithCustomError(this.registry, "LicenseRegistryBatchExists")
          .withArgs(OTHER_ISSUER_ID, root);
      });

      it("getAnchor answers per issuer: unknown issuers and issuers that did not anchor the root get zeros", async function () {
        const { digests, root } = makeBatch(2, "per-issuer");
        await this.registry.connect(this.key).anchor(root, digests);
        expect((await this.registry.getAnchor(ISSUER_ID, root)).key).to.equal(this.key.address);
        for (const issuerId of [OTHER_ISSUER_ID, UNKNOWN_ISSUER_ID, ethers.ZeroHash]) {
          expect(await this.registry.getAnchor(issuerId, root)).to.deep.equal([ethers.ZeroAddress, 0n, 0n, 0n]);
        }
      });

      it("a foreign anchor of the owner's licenses does not make them anchored in checkLicense", async function () {
        const { licenses, root, digests } = await sign(this, 3, this.key);
        await this.registry.connect(this.otherKey).anchor(root, digests);
        for (const license of licenses) {
          expect(await check(this, license, root)).to.deep.equal(notAnchored(this.key.address));
        }
        await this.registry.connect(this.key).anchor(root, digests);
        const { timestamp } = await this.registry.getAnchor(ISSUER_ID, root);
        for (const license of licenses) {
          expect(await check(this, license, root)).to.deep.equal([
            true,
            this.key.address,
            ISSUER_ID,
            true,
            timestamp,
            Status.Active,
          ]);
        }
      });

      it("the owner's digest inside another issuer's batch blocks nothing either", async function () {
        const own = makeBatch(4, "own");
        const foreign = makeDigests(3, "foreign");
        const mixed = [...foreign, own.digests[0]].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
        await this.registry.connect(this.otherKey).anchor(merkleRoot(mixed), mixed);
        await expect(this.registry.connect(this.key).anchor(own.root, own.digests))
          .to.emit(this.registry, "BatchAnchored")
          .withArgs(own.root, ISSUER_ID, this.key.address, own.digests);
      });
    });

    describe("reverts with LicenseRegistryDigestsNotAscending(index)", function () {
      const cases = {
        "unsorted digests": (d) => [[d[1], d[0]], 1],
        "unsorted digests in the middle": (d) => [[d[0], d[1], d[3], d[2], d[4]], 3],
        "duplicate digests": (d) => [[d[0], d[1], d[1], d[2]], 2],
        "a zero digest first": (d) => [[ethers.ZeroHash, d[0]], 0],
        "a single zero digest": () => [[ethers.ZeroHash], 0],
        "a zero digest after others": (d) => [[d[0], d[1], ethers.ZeroHash], 2],
        "descending digests": (d) => [[...d].reverse(), 1],
      };
      for (const [description, make] of Object.entries(cases)) {
        it(`for ${description}`, async function () {
          const [digests, index] = make(makeDigests(5, "order"));
          const root = ethers.id("some root");
          await expect(this.registry.connect(this.key).anchor(root, digests))
            .to.be.revertedWithCustomError(this.registry, "LicenseRegistryDigestsNotAscending")
            .withArgs(index);
          expect((await this.registry.getAnchor(ISSUER_ID, root)).key).to.equal(ethers.ZeroAddress);
        });
      }
    });

    it("reverts with LicenseRegistryRootMismatch(given, computed)", async function () {
      const { digests, root } = makeBatch(7, "mismatch");
      const cases = [
        ethers.id("not the root"),
        merkleRoot(digests.slice(0, 6)), // root of a sub-batch
        leafOf(digests[0]),
        // a tree that duplicates the odd node instead of carrying it up
        hashPair(
          hashPair(hashPair(leafOf(digests[0]), leafOf(digests[1])), hashPair(leafOf(digests[2]), leafOf(digests[3]))),
          hashPair(hashPair(leafOf(digests[4]), leafOf(digests[5])), hashPair(leafOf(digests[6]), leafOf(digests[6]))),
        ),
      ];
      for (const given of cases) {
        await expect(this.registry.connect(this.key).anchor(given, digests))
          .to.be.revertedWithCustomError(this.registry, "LicenseRegistryRootMismatch")
          .withArgs(given, root);
        expect((await this.registry.getAnchor(ISSUER_ID, given)).key).to.equal(ethers.ZeroAddress);
      }
    });

    for (const who of ["stranger", "authority", "admin"]) {
      it(`reverts with LicenseRegistryUnknownKey for a sender that is not a key (${who})`, async function () {
        const { digests, root } = makeBatch(3, "unknown-key");
        await expect(this.registry.connect(this[who]).anchor(root, digests))
          .to.be.revertedWithCustomError(this.registry, "LicenseRegistryUnknownKey")
          .withArgs(this[who].address);
      });
    }

    for (const kind of INVALID_KEY_KINDS) {
      it(`reverts with LicenseRegistryKeyNotValid for ${kind}`, async function () {
        const caller = await makeInvalidKey(this, kind);
        const { digests, root } = makeBatch(3, "invalid-key");
        const ts = await nextTimestamp();
        await expect(this.registry.connect(caller).anchor(root, digests))
          .to.be.revertedWithCustomError(this.registry, "LicenseRegistryKeyNotValid")
          .withArgs(ISSUER_ID, caller.address, ts);
        expect((await this.registry.getAnchor(ISSUER_ID, root)).key).to.equal(ethers.ZeroAddress);
      });
    }

    it("a key declared compromised keeps its earlier anchors but cannot anchor any more", async function () {
      const before = makeBatch(3, "before-compromise");
      await this.registry.connect(this.key).anchor(before.root, before.digests);
      const anchoredAt = (await this.registry.getAnchor(ISSUER_ID, before.root)).timestamp;
      await time.increase(10);
      await this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.key.address, anchoredAt + 1n);
      expect(await this.trust.isKeyValid(ISSUER_ID, this.key.address, anchoredAt)).to.be.true;
      expect((await this.registry.getAnchor(ISSUER_ID, before.root)).key).to.equal(this.key.address);

      const after = makeBatch(3, "after-compromise");
      const ts = await nextTimestamp();
      await expect(this.registry.connect(this.key).anchor(after.root, after.digests))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryKeyNotValid")
        .withArgs(ISSUER_ID, this.key.address, ts);
    });

    it("reverts with LicenseRegistryIssuerInactive for an inactive issuer, until reactivated", async function () {
      const { digests, root } = makeBatch(3, "inactive");
      await this.trust.connect(this.authority).setIssuerActive(ISSUER_ID, false);
      await expect(this.registry.connect(this.key).anchor(root, digests))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryIssuerInactive")
        .withArgs(ISSUER_ID);
      await this.trust.connect(this.authority).setIssuerActive(ISSUER_ID, true);
      await expect(this.registry.connect(this.key).anchor(root, digests))
        .to.emit(this.registry, "BatchAnchored")
        .withArgs(root, ISSUER_ID, this.key.address, digests);
    });
  });

  // ----------------------------------------------------------------------------------------------
  // getAnchor / getStatus
  // ----------------------------------------------------------------------------------------------

  describe("getAnchor", function () {
    it("returns zeros for a root never anchored", async function () {
      expect(await this.registry.getAnchor(ISSUER_ID, ethers.id("never"))).to.deep.equal([
        ethers.ZeroAddress,
        0n,
        0n,
        0n,
      ]);
    });
  });

  describe("getStatus", function () {
    it("is Active with no reason, no setter, no time and no replacement by default", async function () {
      await expectStatuses(this, this.digests, Status.Active, 0, UNSET);
      await expectStatuses(this, [ethers.id("never anchored")], Status.Active, 0, UNSET);
      await expectStatuses(this, this.digests, Status.Active, 0, UNSET, undefined, OTHER_ISSUER_ID);
    });

    it("names its fields status, reason, setBy, setAt and replacement", async function () {
      const d = this.digests[0];
      const tx = this.registry.connect(this.key).supersede(ISSUER_ID, [d], [replacementOf(d)], 6);
      const { setAt } = await setBy(this.key, tx);
      const status = await this.registry.getStatus(ISSUER_ID, d);
      expect(status.status).to.equal(Status.Superseded);
      expect(status.reason).to.equal(6n);
      expect(status.setBy).to.equal(this.key.address);
      expect(status.setAt).to.equal(setAt);
      expect(status.replacement).to.equal(replacementOf(d));
    });
  });

  // ----------------------------------------------------------------------------------------------
  // Status changes
  // ----------------------------------------------------------------------------------------------

  describe("suspend", function () {
    it("suspends active licenses, emitting LicensesSuspended", async function () {
      const tx = this.registry.connect(this.key).suspend(ISSUER_ID, this.digests, 7);
      await expect(tx).to.emit(this.registry, "LicensesSuspended").withArgs(ISSUER_ID, this.key.address, 7, this.digests);
      await expectStatuses(this, this.digests, Status.Suspended, 7, await setBy(this.key, tx));
    });

    it("records the maximum reason code", async function () {
      const tx = this.registry.connect(this.authority).suspend(ISSUER_ID, this.digests.slice(0, 1), 65535);
      await expectStatuses(this, this.digests.slice(0, 1), Status.Suspended, 65535, await setBy(this.authority, tx));
    });

    shouldBehaveLikeStatusChange("suspend");
  });

  describe("reinstate", function () {
    it("makes suspended licenses active again, emitting LicensesReinstated", async function () {
      await this.registry.connect(this.key).suspend(ISSUER_ID, this.digests, 7);
      await time.increase(10);
      const tx = this.registry.connect(this.authority).reinstate(ISSUER_ID, this.digests, 8);
      await expect(tx)
        .to.emit(this.registry, "LicensesReinstated")
        .withArgs(ISSUER_ID, this.authority.address, 8, this.digests);
      // the reinstatement is the status's last change: its setter and time replace the suspension's
      await expectStatuses(this, this.digests, Status.Active, 8, await setBy(this.authority, tx));
    });

    it("allows Active -> Suspended -> Active repeatedly", async function () {
      const d = this.digests.slice(0, 2);
      for (let i = 0; i < 3; ++i) {
        const suspension = await this.registry.connect(this.key).suspend(ISSUER_ID, d, 1);
        await expectStatuses(this, d, Status.Suspended, 1, await setBy(this.key, suspension));
        const reinstatement = await this.registry.connect(this.authority).reinstate(ISSUER_ID, d, 2);
        await expectStatuses(this, d, Status.Active, 2, await setBy(this.authority, reinstatement));
      }
    });

    shouldBehaveLikeStatusChange("reinstate");
  });

  describe("revoke", function () {
    it("revokes active licenses, emitting LicensesRevoked", async function () {
      const tx = this.registry.connect(this.key).revoke(ISSUER_ID, this.digests, 3);
      await expect(tx).to.emit(this.registry, "LicensesRevoked").withArgs(ISSUER_ID, this.key.address, 3, this.digests);
      await expectStatuses(this, this.digests, Status.Revoked, 3, await setBy(this.key, tx));
    });

    it("revokes suspended licenses", async function () {
      await this.registry.connect(this.key).suspend(ISSUER_ID, this.digests.slice(0, 2), 1);
      const tx = this.registry.connect(this.authority).revoke(ISSUER_ID, this.digests, 4);
      await expect(tx)
        .to.emit(this.registry, "LicensesRevoked")
        .withArgs(ISSUER_ID, this.authority.address, 4, this.digests);
      await expectStatuses(this, this.digests, Status.Revoked, 4, await setBy(this.authority, tx));
    });

    shouldBehaveLikeStatusChange("revoke");
  });

  describe("supersede", function () {
    it("supersedes active and suspended licenses, emitting LicensesSuperseded", async function () {
      const replacements = this.digests.map(replacementOf);
      await this.registry.connect(this.key).suspend(ISSUER_ID, this.digests.slice(0, 2), 1);
      const tx = this.registry.connect(this.key).supersede(ISSUER_ID, this.digests, replacements, 5);
      await expect(tx)
        .to.emit(this.registry, "LicensesSuperseded")
        .withArgs(ISSUER_ID, this.key.address, 5, this.digests, replacements);
      await expectStatuses(this, this.digests, Status.Superseded, 5, await setBy(this.key, tx), replacements);
    });

    it("reverts with LicenseRegistryLengthMismatch", async function () {
      const replacements = this.digests.map(replacementOf);
      await expect(this.registry.connect(this.key).supersede(ISSUER_ID, this.digests.slice(0, 2), replacements.slice(0, 1), 5))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryLengthMismatch")
        .withArgs(2, 1);
      await expect(this.registry.connect(this.key).supersede(ISSUER_ID, this.digests.slice(0, 1), replacements.slice(0, 2), 5))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryLengthMismatch")
        .withArgs(1, 2);
      await expect(this.registry.connect(this.key).supersede(ISSUER_ID, [], replacements.slice(0, 1), 5))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryLengthMismatch")
        .withArgs(0, 1);
    });

    it("reverts with LicenseRegistryEmptyBatch for two empty lists", async function () {
      await expect(
        this.registry.connect(this.key).supersede(ISSUER_ID, [], [], 5),
      ).to.be.revertedWithCustomError(this.registry, "LicenseRegistryEmptyBatch");
    });

    it("reverts with LicenseRegistryInvalidReplacement for a zero replacement or the digest itself, changing nothing", async function () {
      const d = this.digests;
      for (const [bad, replacement] of [
        [d[2], ethers.ZeroHash],
        [d[2], d[2]],
      ]) {
        const replacements = d.map(replacementOf);
        replacements[2] = replacement;
        await expect(this.registry.connect(this.key).supersede(ISSUER_ID, d, replacements, 5))
          .to.be.revertedWithCustomError(this.registry, "LicenseRegistryInvalidReplacement")
          .withArgs(bad, replacement);
        await expectStatuses(this, d, Status.Active, 0, UNSET);
      }
    });

    shouldBehaveLikeStatusChange("supersede");
  });

  describe("transitions", function () {
    // status the digest is brought into first, by a sequence of operations
    const setups = {
      Active: [],
      Suspended: ["suspend"],
      Revoked: ["revoke"],
      Superseded: ["supersede"],
      "Revoked (from Suspended)": ["suspend", "revoke"],
      "Superseded (from Suspended)": ["suspend", "supersede"],
      "Active (reinstated)": ["suspend", "reinstate"],
    };
    const expected = {
      Active: { suspend: "Suspended", reinstate: ["InvalidTransition", "Active"], revoke: "Revoked", supersede: "Superseded" },
      Suspended: { suspend: ["InvalidTransition", "Suspended"], reinstate: "Active", revoke: "Revoked", supersede: "Superseded" },
      Revoked: { suspend: ["StatusFinal"], reinstate: ["StatusFinal"], revoke: ["StatusFinal"], supersede: ["StatusFinal"] },
      Superseded: { suspend: ["StatusFinal"], reinstate: ["StatusFinal"], revoke: ["StatusFinal"], supersede: ["StatusFinal"] },
    };

    for (const [setupName, steps] of Object.entries(setups)) {
      const from = setupName.split(" ")[0];
      for (const [opName, outcome] of Object.entries(expected[from])) {
        const title = typeof outcome === "string" ? `allows ${setupName} -> ${outcome} (${opName})` : `refuses ${opName} of ${setupName} with ${outcome[0]}`;
        it(title, async function () {
          const d = this.digests[0];
          for (const step of steps) await OPERATIONS[step].send(this, this.key, ISSUER_ID, [d], 1);
          const before = await this.registry.getStatus(ISSUER_ID, d);
          expect(before.status).to.equal(Status[from]);
          const op = OPERATIONS[opName];
          const call = op.send(this, this.authority, ISSUER_ID, [d], 9);
          if (typeof outcome === "string") {
            await expect(call).to.emit(this.registry, op.event);
            expect(await this.registry.getStatus(ISSUER_ID, d)).to.deep.equal([
              Status[outcome],
              9n,
              this.authority.address,
              await txTimestamp(await call),
              opName === "supersede" ? replacementOf(d) : ethers.ZeroHash,
            ]);
            expect(op.to).to.equal(Status[outcome]);
          } else if (outcome[0] === "StatusFinal") {
            await expect(call)
              .to.be.revertedWithCustomError(this.registry, "LicenseRegistryStatusFinal")
              .withArgs(d, Status[from]);
            expect(await this.registry.getStatus(ISSUER_ID, d)).to.deep.equal(before);
          } else {
            await expect(call)
              .to.be.revertedWithCustomError(this.registry, "LicenseRegistryInvalidTransition")
              .withArgs(d, Status[from], op.to);
            expect(await this.registry.getStatus(ISSUER_ID, d)).to.deep.equal(before);
            expect(enumName(op.to)).to.equal(outcome[1]);
          }
        });
      }
    }
  });

  describe("atomicity", function () {
    it("a revoke failing on the last digest leaves no digest changed", async function () {
      const d = this.digests;
      const revocation = await this.registry.connect(this.key).revoke(ISSUER_ID, [d[4]], 1);
      await expect(this.registry.connect(this.key).revoke(ISSUER_ID, d, 2))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryStatusFinal")
        .withArgs(d[4], Status.Revoked);
      await expectStatuses(this, d.slice(0, 4), Status.Active, 0, UNSET);
      await expectStatuses(this, [d[4]], Status.Revoked, 1, await setBy(this.key, revocation));
    });

    it("a suspend failing on a suspended digest leaves no digest changed", async function () {
      const d = this.digests;
      const suspension = await this.registry.connect(this.key).suspend(ISSUER_ID, [d[3]], 1);
      await expect(this.registry.connect(this.key).suspend(ISSUER_ID, d, 2))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryInvalidTransition")
        .withArgs(d[3], Status.Suspended, Status.Suspended);
      await expectStatuses(this, [d[0], d[1], d[2], d[4]], Status.Active, 0, UNSET);
      await expectStatuses(this, [d[3]], Status.Suspended, 1, await setBy(this.key, suspension));
    });

    it("a reinstate failing on an active digest leaves no digest changed", async function () {
      const d = this.digests;
      const suspension = await this.registry.connect(this.key).suspend(ISSUER_ID, d.slice(0, 3), 1);
      await expect(this.registry.connect(this.key).reinstate(ISSUER_ID, d, 2))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryInvalidTransition")
        .withArgs(d[3], Status.Active, Status.Active);
      await expectStatuses(this, d.slice(0, 3), Status.Suspended, 1, await setBy(this.key, suspension));
    });

    it("a digest repeated in one call fails on its second occurrence and changes nothing", async function () {
      const d = this.digests;
      await expect(this.registry.connect(this.key).revoke(ISSUER_ID, [d[0], d[1], d[0]], 2))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryStatusFinal")
        .withArgs(d[0], Status.Revoked);
      await expect(this.registry.connect(this.key).suspend(ISSUER_ID, [d[0], d[0]], 2))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryInvalidTransition")
        .withArgs(d[0], Status.Suspended, Status.Suspended);
      await expectStatuses(this, d, Status.Active, 0, UNSET);
    });

    it("a supersede failing on a superseded digest leaves no digest or replacement changed", async function () {
      const d = this.digests;
      const supersession = await this.registry.connect(this.key).supersede(ISSUER_ID, [d[1]], [replacementOf(d[1])], 1);
      await expect(this.registry.connect(this.key).supersede(ISSUER_ID, d, d.map((x) => ethers.id(x)), 2))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryStatusFinal")
        .withArgs(d[1], Status.Superseded);
      await expectStatuses(this, [d[0], d[2], d[3], d[4]], Status.Active, 0, UNSET);
      await expectStatuses(this, [d[1]], Status.Superseded, 1, await setBy(this.key, supersession), [replacementOf(d[1])]);
    });
  });

  // ----------------------------------------------------------------------------------------------
  // voidStatusChanges (undoing what a stolen key did)
  // ----------------------------------------------------------------------------------------------

  describe("voidStatusChanges", function () {
    /** The authority declares `key` (ctx.key by default) compromised from `at`, 10 s later. */
    async function declareCompromised(ctx, at, key = ctx.key) {
      await time.increase(10);
      await ctx.trust.connect(ctx.authority).declareKeyCompromised(ISSUER_ID, key.address, at);
    }

    /** A revocation of `digests` by the key at the next block (`delta` s on), voidable once the key
     * is declared compromised from its time; returns that time. */
    async function revokeByKey(ctx, digests, delta = 10n) {
      const at = await nextTimestamp(delta);
      await ctx.registry.connect(ctx.key).revoke(ISSUER_ID, digests, 1);
      return at;
    }

    it("makes licenses whose status a key set outside its (since shortened) window active again", async function () {
      const d = this.digests;
      const { key } = this;
      // the key suspends d0, revokes d1, supersedes d2, suspends then revokes d3, from `from` on
      const from = await nextTimestamp(10n);
      await this.registry.connect(key).suspend(ISSUER_ID, [d[0]], 1);
      await this.registry.connect(key).revoke(ISSUER_ID, [d[1]], 2);
      await this.registry.connect(key).supersede(ISSUER_ID, [d[2]], [replacementOf(d[2])], 3);
      await this.registry.connect(key).suspend(ISSUER_ID, [d[3]], 4);
      await this.registry.connect(key).revoke(ISSUER_ID, [d[3]], 5);
      // declared compromised from exactly the time of the first change
      await declareCompromised(this, from);

      const voided = [d[0], d[1], d[2], d[3]];
      const tx = this.registry.connect(this.authority).voidStatusChanges(ISSUER_ID, voided);
      await expect(tx).to.emit(this.registry, "StatusChangesVoided").withArgs(ISSUER_ID, this.authority.address, voided);
      expect(await eventsOf(this.registry, tx)).to.deep.equal([
        ["StatusChangesVoided", ISSUER_ID, this.authority.address, voided],
      ]);
      // Active, reason 0, set by the authority now, no replacement
      await expectStatuses(this, voided, Status.Active, 0, await setBy(this.authority, tx));
      await expectStatuses(this, [d[4]], Status.Active, 0, UNSET);
    });

    it("voids a status set at exactly compromisedAt, not one set the second before", async function () {
      const d = this.digests;
      const before = await revokeByKey(this, [d[0]]);
      const at = await revokeByKey(this, [d[1]], 1n);
      expect(at).to.equal(before + 1n);
      await declareCompromised(this, at);
      await expect(this.registry.connect(this.authority).voidStatusChanges(ISSUER_ID, [d[0]]))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryStatusNotVoidable")
        .withArgs(d[0]);
      await expect(this.registry.connect(this.authority).voidStatusChanges(ISSUER_ID, [d[1]]))
        .to.emit(this.registry, "StatusChangesVoided")
        .withArgs(ISSUER_ID, this.authority.address, [d[1]]);
      await expectStatuses(this, [d[0]], Status.Revoked, 1, { setBy: this.key.address, setAt: before });
    });

    it("voids the statuses set by the successor a stolen key rotated itself to", async function () {
      const thief = this.newKey;
      const stolenAt = BigInt(await time.latest());
      await time.increase(10);
      await this.trust.connect(this.key).rotateKey(ISSUER_ID, this.key.address, thief.address, accept(ISSUER_ID, thief.address));
      const tx = await this.registry.connect(thief).revoke(ISSUER_ID, this.digests, 7);
      await expectStatuses(this, this.digests, Status.Revoked, 7, await setBy(thief, tx));
      await declareCompromised(this, stolenAt);
      expect(await this.trust.isKeyValid(ISSUER_ID, thief.address, await txTimestamp(tx))).to.be.false;
      const voiding = this.registry.connect(this.authority).voidStatusChanges(ISSUER_ID, this.digests);
      await expect(voiding)
        .to.emit(this.registry, "StatusChangesVoided")
        .withArgs(ISSUER_ID, this.authority.address, this.digests);
      await expectStatuses(this, this.digests, Status.Active, 0, await setBy(this.authority, voiding));
    });

    it("refuses an active license: never changed, reinstated (even by the stolen key), or zero", async function () {
      const d = this.digests;
      await this.registry.connect(this.authority).suspend(ISSUER_ID, [d[1]], 1);
      const from = await nextTimestamp(10n);
      await this.registry.connect(this.key).reinstate(ISSUER_ID, [d[1]], 2);
      await declareCompromised(this, from);
      for (const digest of [d[0], d[1], ethers.id("never anchored"), ethers.ZeroHash]) {
        await expect(this.registry.connect(this.authority).voidStatusChanges(ISSUER_ID, [digest]))
          .to.be.revertedWithCustomError(this.registry, "LicenseRegistryStatusNotVoidable")
          .withArgs(digest);
      }
      await expectStatuses(this, [d[1]], Status.Active, 2, { setBy: this.key.address, setAt: from });
    });

    it("refuses a status set by an authority, even after the key's compromise time", async function () {
      const d = this.digests;
      const from = BigInt(await time.latest());
      await time.increase(10);
      const suspension = await this.registry.connect(this.authority).suspend(ISSUER_ID, [d[0]], 1);
      await this.registry.connect(this.authority).revoke(ISSUER_ID, [d[1]], 2);
      await this.registry.connect(this.authority).supersede(ISSUER_ID, [d[2]], [replacementOf(d[2])], 3);
      await declareCompromised(this, from);
      for (const digest of [d[0], d[1], d[2]]) {
        await expect(this.registry.connect(this.authority).voidStatusChanges(ISSUER_ID, [digest]))
          .to.be.revertedWithCustomError(this.registry, "LicenseRegistryStatusNotVoidable")
          .withArgs(digest);
      }
      await expectStatuses(this, [d[0]], Status.Suspended, 1, await setBy(this.authority, suspension));
    });

    // a key's status change stands when the key was valid when it made it
    const stillValid = {
      "a key still valid now": async () => {},
      "a key that rotated itself since": async (ctx) =>
        ctx.trust.connect(ctx.key).rotateKey(ISSUER_ID, ctx.key.address, ctx.newKey.address, accept(ISSUER_ID, ctx.newKey.address)),
      "a key retired since by the authority": async (ctx) =>
        ctx.trust.connect(ctx.authority).retireKey(ISSUER_ID, ctx.key.address),
      "a key declared compromised since, from a later time": async (ctx, setAt) =>
        declareCompromised(ctx, setAt + 1n),
    };
    for (const [description, after] of Object.entries(stillValid)) {
      it(`refuses a status set by ${description} (valid at setAt)`, async function () {
        const d = this.digests.slice(0, 2);
        const setAt = await revokeByKey(this, d);
        await time.increase(5);
        await after(this, setAt);
        expect(await this.trust.isKeyValid(ISSUER_ID, this.key.address, setAt)).to.be.true;
        await expect(this.registry.connect(this.authority).voidStatusChanges(ISSUER_ID, d))
          .to.be.revertedWithCustomError(this.registry, "LicenseRegistryStatusNotVoidable")
          .withArgs(d[0]);
        await expectStatuses(this, d, Status.Revoked, 1, { setBy: this.key.address, setAt });
      });
    }

    it("refuses a status set by a key whose finite window has since expired", async function () {
      // block times pinned: after the fixture's snapshot is restored, unpinned blocks follow the wall clock
      const now = await nextTimestamp();
      await this.trust.connect(this.authority).addKey(ISSUER_ID, this.spareKey.address, now, now + 20n, accept(ISSUER_ID, this.spareKey.address));
      await nextTimestamp();
      const tx = await this.registry.connect(this.spareKey).suspend(ISSUER_ID, [this.digests[0]], 1);
      await time.increase(30);
      await expect(this.registry.connect(this.authority).voidStatusChanges(ISSUER_ID, [this.digests[0]]))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryStatusNotVoidable")
        .withArgs(this.digests[0]);
      await expectStatuses(this, [this.digests[0]], Status.Suspended, 1, await setBy(this.spareKey, tx));
    });

    it("is all or nothing: the first digest that is not voidable reverts the call, changing nothing", async function () {
      const d = this.digests;
      const from = await revokeByKey(this, [d[0], d[1]]);
      const byAuthority = await this.registry.connect(this.authority).revoke(ISSUER_ID, [d[2]], 3);
      await declareCompromised(this, from);
      await expect(this.registry.connect(this.authority).voidStatusChanges(ISSUER_ID, [d[0], d[2], d[1], d[3]]))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryStatusNotVoidable")
        .withArgs(d[2]);
      await expectStatuses(this, [d[0], d[1]], Status.Revoked, 1, { setBy: this.key.address, setAt: from });
      await expectStatuses(this, [d[2]], Status.Revoked, 3, await setBy(this.authority, byAuthority));
      // a digest repeated in one call fails on its second occurrence
      await expect(this.registry.connect(this.authority).voidStatusChanges(ISSUER_ID, [d[0], d[1], d[0]]))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryStatusNotVoidable")
        .withArgs(d[0]);
      await expectStatuses(this, [d[0], d[1]], Status.Revoked, 1, { setBy: this.key.address, setAt: from });
    });

    it("a voided status cannot be voided again; the license's status can change again", async function () {
      const d = this.digests[0];
      const from = await revokeByKey(this, [d]);
      await declareCompromised(this, from);
      await this.registry.connect(this.authority).voidStatusChanges(ISSUER_ID, [d]);
      await expect(this.registry.connect(this.authority).voidStatusChanges(ISSUER_ID, [d]))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryStatusNotVoidable")
        .withArgs(d);
      // a new key of the issuer suspends it, the authority revokes it: ordinary changes, not voidable
      const now = BigInt(await time.latest());
      await this.trust.connect(this.authority).addKey(ISSUER_ID, this.spareKey.address, now, OPEN_END, accept(ISSUER_ID, this.spareKey.address));
      const suspension = await this.registry.connect(this.spareKey).suspend(ISSUER_ID, [d], 4);
      await expectStatuses(this, [d], Status.Suspended, 4, await setBy(this.spareKey, suspension));
      const revocation = await this.registry.connect(this.authority).revoke(ISSUER_ID, [d], 5);
      await expectStatuses(this, [d], Status.Revoked, 5, await setBy(this.authority, revocation));
      await expect(this.registry.connect(this.authority).voidStatusChanges(ISSUER_ID, [d]))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryStatusNotVoidable")
        .withArgs(d);
    });

    it("still works for an inactive issuer", async function () {
      const from = await revokeByKey(this, this.digests);
      await declareCompromised(this, from);
      await this.trust.connect(this.authority).setIssuerActive(ISSUER_ID, false);
      const tx = this.registry.connect(this.authority).voidStatusChanges(ISSUER_ID, this.digests);
      await expect(tx)
        .to.emit(this.registry, "StatusChangesVoided")
        .withArgs(ISSUER_ID, this.authority.address, this.digests);
      await expectStatuses(this, this.digests, Status.Active, 0, await setBy(this.authority, tx));
    });

    it("acts on the given issuer's statuses only, by that issuer's authorities only", async function () {
      const d = [this.digests[0]];
      const otherFrom = await nextTimestamp(10n);
      const otherRevocation = await this.registry.connect(this.otherKey).revoke(OTHER_ISSUER_ID, d, 8);
      const from = await revokeByKey(this, d);
      await declareCompromised(this, from);
      await this.registry.connect(this.authority).voidStatusChanges(ISSUER_ID, d);
      const otherSet = await setBy(this.otherKey, otherRevocation);
      await expectStatuses(this, d, Status.Revoked, 8, otherSet, undefined, OTHER_ISSUER_ID);
      // the other issuer's key, declared compromised by its own authority
      await time.increase(10);
      await this.trust
        .connect(this.otherAuthority)
        .declareKeyCompromised(OTHER_ISSUER_ID, this.otherKey.address, otherFrom);
      await expect(this.registry.connect(this.authority).voidStatusChanges(OTHER_ISSUER_ID, d))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryNotAuthority")
        .withArgs(OTHER_ISSUER_ID, this.authority.address);
      const tx = this.registry.connect(this.otherAuthority).voidStatusChanges(OTHER_ISSUER_ID, d);
      await expect(tx)
        .to.emit(this.registry, "StatusChangesVoided")
        .withArgs(OTHER_ISSUER_ID, this.otherAuthority.address, d);
      await expectStatuses(this, d, Status.Active, 0, await setBy(this.otherAuthority, tx), undefined, OTHER_ISSUER_ID);
    });

    describe("access (authorities of the issuer's region only)", function () {
      beforeEach(async function () {
        const from = await revokeByKey(this, this.digests);
        await declareCompromised(this, from);
      });

      const refused = {
        stranger: "a stranger",
        key: "the compromised key itself",
        newKey: "a valid key of the issuer",
        otherKey: "a valid key of another issuer",
        otherAuthority: "an authority of a different region",
        admin: "the federation admin",
      };
      for (const [who, description] of Object.entries(refused)) {
        it(`reverts with LicenseRegistryNotAuthority for ${description}`, async function () {
          if (who === "newKey") {
            const now = BigInt(await time.latest());
            await this.trust.connect(this.authority).addKey(ISSUER_ID, this.newKey.address, now, OPEN_END, accept(ISSUER_ID, this.newKey.address));
          }
          const before = await statusesOf(this, this.digests);
          await expect(this.registry.connect(this[who]).voidStatusChanges(ISSUER_ID, this.digests))
            .to.be.revertedWithCustomError(this.registry, "LicenseRegistryNotAuthority")
            .withArgs(ISSUER_ID, this[who].address);
          expect(await statusesOf(this, this.digests)).to.deep.equal(before);
        });
      }

      it("reverts for a removed authority", async function () {
        await this.trust.connect(this.admin).removeRegionAuthority(REGION, this.authority.address);
        await expect(this.registry.connect(this.authority).voidStatusChanges(ISSUER_ID, this.digests))
          .to.be.revertedWithCustomError(this.registry, "LicenseRegistryNotAuthority")
          .withArgs(ISSUER_ID, this.authority.address);
      });

      it("reverts with LicenseRegistryUnknownIssuer for an unknown issuer, whoever calls", async function () {
        for (const caller of [this.authority, this.stranger]) {
          await expect(this.registry.connect(caller).voidStatusChanges(UNKNOWN_ISSUER_ID, this.digests))
            .to.be.revertedWithCustomError(this.registry, "LicenseRegistryUnknownIssuer")
            .withArgs(UNKNOWN_ISSUER_ID);
        }
      });

      it("reverts with LicenseRegistryEmptyBatch for an empty list, whoever calls", async function () {
        for (const caller of [this.authority, this.stranger]) {
          await expect(
            this.registry.connect(caller).voidStatusChanges(ISSUER_ID, []),
          ).to.be.revertedWithCustomError(this.registry, "LicenseRegistryEmptyBatch");
        }
      });

      it(`reverts with LicenseRegistryBatchTooLarge for more than ${MAX_BATCH_SIZE} digests`, async function () {
        const digests = Array(MAX_BATCH_SIZE + 1).fill(this.digests[0]);
        await expect(this.registry.connect(this.authority).voidStatusChanges(ISSUER_ID, digests))
          .to.be.revertedWithCustomError(this.registry, "LicenseRegistryBatchTooLarge")
          .withArgs(MAX_BATCH_SIZE + 1, MAX_BATCH_SIZE);
      });

      it("succeeds for an authority added since", async function () {
        await this.trust.connect(this.admin).addRegionAuthority(REGION, this.stranger.address);
        await expect(this.registry.connect(this.stranger).voidStatusChanges(ISSUER_ID, this.digests))
          .to.emit(this.registry, "StatusChangesVoided")
          .withArgs(ISSUER_ID, this.stranger.address, this.digests);
      });
    });
  });

  // ----------------------------------------------------------------------------------------------
  // A stolen key, end to end
  // ----------------------------------------------------------------------------------------------

  describe("a stolen key", function () {
    it("its revocation after the compromise time is voided, the license valid again; an earlier one stands", async function () {
      // the key anchors a batch of signed licenses
      const batch = await issue(this, 3, this.key);
      const [a, b] = batch.licenses;
      // a routine revocation by the key, before the theft
      await time.increase(10);
      const routine = await this.registry.connect(this.key).revoke(ISSUER_ID, [a.digest], 1);
      const routineBy = await setBy(this.key, routine);
      // the key is stolen at `stolenAt`; the thief revokes b
      await time.increase(10);
      const stolenAt = BigInt(await time.latest());
      await time.increase(10);
      await this.registry.connect(this.key).revoke(ISSUER_ID, [b.digest], 2);
      expect((await check(this, b, batch.root)).status).to.equal(Status.Revoked);

      // the authority declares the key compromised from `stolenAt`, before the thief's revocation ...
      await time.increase(10);
      const declaration = this.trust
        .connect(this.authority)
        .declareKeyCompromised(ISSUER_ID, this.key.address, stolenAt);
      expect(await eventsOf(this.trust, declaration)).to.deep.equal([
        ["KeyCompromised", ISSUER_ID, this.key.address, stolenAt],
      ]);
      // ... and voids the revocation
      const tx = this.registry.connect(this.authority).voidStatusChanges(ISSUER_ID, [b.digest]);
      expect(await eventsOf(this.registry, tx)).to.deep.equal([
        ["StatusChangesVoided", ISSUER_ID, this.authority.address, [b.digest]],
      ]);
      await expectStatuses(this, [b.digest], Status.Active, 0, await setBy(this.authority, tx));
      // the license is active, anchored by a key valid then: valid again
      expect(await check(this, b, batch.root)).to.deep.equal([
        true,
        this.key.address,
        ISSUER_ID,
        true,
        batch.timestamp,
        Status.Active,
      ]);

      // the revocation the key made before the compromise time is not voidable, and stands
      await expect(this.registry.connect(this.authority).voidStatusChanges(ISSUER_ID, [a.digest]))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryStatusNotVoidable")
        .withArgs(a.digest);
      await expectStatuses(this, [a.digest], Status.Revoked, 1, routineBy);
      expect((await check(this, a, batch.root)).status).to.equal(Status.Revoked);
    });

    it("nothing the thief's own key did survives the declaration", async function () {
      const thief = this.newKey;
      const batch = await issue(this, 2, this.key);
      const [a] = batch.licenses;
      await time.increase(10);
      const stolenAt = BigInt(await time.latest());
      expect(stolenAt).to.be.greaterThan(batch.timestamp);
      await time.increase(10);
      // the thief rotates the stolen key to their own key, revokes a license, and anchors a forgery
      const rotatedAt = await nextTimestamp();
      await expect(this.trust.connect(this.key).rotateKey(ISSUER_ID, this.key.address, thief.address, accept(ISSUER_ID, thief.address)))
        .to.emit(this.trust, "KeyRotated")
        .withArgs(ISSUER_ID, this.key.address, thief.address, true);
      await this.registry.connect(thief).revoke(ISSUER_ID, [a.digest], 9);
      const forged = await issue(this, 1, thief, thief, "F");
      expect(await check(this, forged.licenses[0], forged.root)).to.deep.equal([
        true,
        thief.address,
        ISSUER_ID,
        true,
        forged.timestamp,
        Status.Active,
      ]);

      await time.increase(10);
      const declaration = this.trust
        .connect(this.authority)
        .declareKeyCompromised(ISSUER_ID, this.key.address, stolenAt);
      expect(await eventsOf(this.trust, declaration)).to.deep.equal([
        ["KeyCompromised", ISSUER_ID, this.key.address, stolenAt],
        ["KeyCompromised", ISSUER_ID, thief.address, rotatedAt],
      ]);
      // the forgery no longer checks out; the thief's key can neither anchor nor change statuses
      expect((await check(this, forged.licenses[0], forged.root)).keyValidAtAnchor).to.be.false;
      const more = makeBatch(2, "more forgeries");
      const ts = await nextTimestamp();
      await expect(this.registry.connect(thief).anchor(more.root, more.digests))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryKeyNotValid")
        .withArgs(ISSUER_ID, thief.address, ts);
      await expect(this.registry.connect(thief).revoke(ISSUER_ID, [batch.licenses[1].digest], 9))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryNotIssuerOrAuthority")
        .withArgs(ISSUER_ID, thief.address);
      // the thief's revocation is voided; the license anchored before the theft is valid again
      await this.registry.connect(this.authority).voidStatusChanges(ISSUER_ID, [a.digest]);
      expect(await check(this, a, batch.root)).to.deep.equal([
        true,
        this.key.address,
        ISSUER_ID,
        true,
        batch.timestamp,
        Status.Active,
      ]);
    });

    it("a thief's two rotations in one block (K -> A -> B) and what B did then are undone by one declaration", async function () {
      const [a, b] = [this.newKey, this.spareKey];
      const batch = await issue(this, 2, this.key);
      const [victim, other] = batch.licenses;
      await time.increase(10);
      const stolenAt = BigInt(await time.latest());
      // in one block at t: K -> A, A -> B, and B anchors a forgery and revokes a license
      const forged = await sign(this, 1, b, "F");
      const t = stolenAt + 10n;
      const { responses, receipts } = await inOneBlock(
        [
          (o) => this.trust.connect(this.key).rotateKey(ISSUER_ID, this.key.address, a.address, accept(ISSUER_ID, a.address), o),
          (o) => this.trust.connect(a).rotateKey(ISSUER_ID, a.address, b.address, accept(ISSUER_ID, b.address), o),
          (o) => this.registry.connect(b).anchor(forged.root, forged.digests, o),
          (o) => this.registry.connect(b).revoke(ISSUER_ID, [victim.digest], 9, o),
        ],
        t,
      );
      expect(receipts.map((r) => r.status)).to.deep.equal([1, 1, 1, 1]);
      await expect(responses[0]).to.emit(this.trust, "KeyRotated").withArgs(ISSUER_ID, this.key.address, a.address, true);
      await expect(responses[1]).to.emit(this.trust, "KeyRotated").withArgs(ISSUER_ID, a.address, b.address, true);
      await expect(responses[2])
        .to.emit(this.registry, "BatchAnchored")
        .withArgs(forged.root, ISSUER_ID, b.address, forged.digests);
      await expect(responses[3]).to.emit(this.registry, "LicensesRevoked").withArgs(ISSUER_ID, b.address, 9, [victim.digest]);
      expect(await check(this, forged.licenses[0], forged.root)).to.deep.equal([
        true,
        b.address,
        ISSUER_ID,
        true,
        t,
        Status.Active,
      ]);
      await expectStatuses(this, [victim.digest], Status.Revoked, 9, { setBy: b.address, setAt: t });

      await time.increase(10);
      const declaration = this.trust
        .connect(this.authority)
        .declareKeyCompromised(ISSUER_ID, this.key.address, stolenAt);
      expect(await eventsOf(this.trust, declaration)).to.deep.equal([
        ["KeyCompromised", ISSUER_ID, this.key.address, stolenAt],
        ["KeyCompromised", ISSUER_ID, a.address, t],
        ["KeyCompromised", ISSUER_ID, b.address, t],
      ]);
      // the forgery no longer checks out; B can neither anchor nor change statuses any more
      expect(await check(this, forged.licenses[0], forged.root)).to.deep.equal([
        true,
        b.address,
        ISSUER_ID,
        false,
        t,
        Status.Active,
      ]);
      const more = makeBatch(2, "more forgeries by B");
      const ts = await nextTimestamp();
      await expect(this.registry.connect(b).anchor(more.root, more.digests))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryKeyNotValid")
        .withArgs(ISSUER_ID, b.address, ts);
      await expect(this.registry.connect(b).revoke(ISSUER_ID, [other.digest], 9))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryNotIssuerOrAuthority")
        .withArgs(ISSUER_ID, b.address);
      // B's revocation is voided: the license is valid and active again
      const voiding = this.registry.connect(this.authority).voidStatusChanges(ISSUER_ID, [victim.digest]);
      await expect(voiding)
        .to.emit(this.registry, "StatusChangesVoided")
        .withArgs(ISSUER_ID, this.authority.address, [victim.digest]);
      await expectStatuses(this, [victim.digest], Status.Active, 0, await setBy(this.authority, voiding));
      expect(await check(this, victim, batch.root)).to.deep.equal([
        true,
        this.key.address,
        ISSUER_ID,
        true,
        batch.timestamp,
        Status.Active,
      ]);
    });
  });

  // ----------------------------------------------------------------------------------------------
  // What a key does in the second its window ends (rotation, retirement) counts
  // ----------------------------------------------------------------------------------------------

  describe("the last second of a rotated or retired key", function () {
    const ENDINGS = {
      "the key rotates itself": {
        send: (ctx, o) => ctx.trust.connect(ctx.key).rotateKey(ISSUER_ID, ctx.key.address, ctx.newKey.address, accept(ISSUER_ID, ctx.newKey.address), o),
        events: (ctx, t) => [
          ["KeyRetired", ISSUER_ID, ctx.key.address, t + 1n],
          ["KeyAdded", ISSUER_ID, ctx.newKey.address, t, OPEN_END],
          ["KeyRotated", ISSUER_ID, ctx.key.address, ctx.newKey.address, true],
        ],
        successor: "self",
      },
      "an authority rotates it": {
        send: (ctx, o) =>
          ctx.trust.connect(ctx.authority).rotateKey(ISSUER_ID, ctx.key.address, ctx.newKey.address, accept(ISSUER_ID, ctx.newKey.address), o),
        events: (ctx, t) => [
          ["KeyRetired", ISSUER_ID, ctx.key.address, t + 1n],
          ["KeyAdded", ISSUER_ID, ctx.newKey.address, t, OPEN_END],
          ["KeyRotated", ISSUER_ID, ctx.key.address, ctx.newKey.address, false],
        ],
        successor: "authority",
      },
      "the key retires itself": {
        send: (ctx, o) => ctx.trust.connect(ctx.key).retireKey(ISSUER_ID, ctx.key.address, o),
        events: (ctx, t) => [["KeyRetired", ISSUER_ID, ctx.key.address, t + 1n]],
      },
      "an authority retires it": {
        send: (ctx, o) => ctx.trust.connect(ctx.authority).retireKey(ISSUER_ID, ctx.key.address, o),
        events: (ctx, t) => [["KeyRetired", ISSUER_ID, ctx.key.address, t + 1n]],
      },
    };

    for (const [description, ending] of Object.entries(ENDINGS)) {
      it(`a key anchors and revokes, then ${description}, in one block: its batch stays valid, its revocation stands`, async function () {
        const { key, authority } = this;
        const signed = await sign(this, 2, key, "S");
        const d = this.digests[0];
        const t = await nextTimestamp(10n);
        const { responses, receipts, timestamp } = await inOneBlock([
          (o) => this.registry.connect(key).anchor(signed.root, signed.digests, o),
          (o) => this.registry.connect(key).revoke(ISSUER_ID, [d], 4, o),
          (o) => ending.send(this, o),
        ]);
        expect(timestamp).to.equal(t);
        expect(receipts.map((r) => r.status)).to.deep.equal([1, 1, 1]);
        await expect(responses[0])
          .to.emit(this.registry, "BatchAnchored")
          .withArgs(signed.root, ISSUER_ID, key.address, signed.digests);
        await expect(responses[1]).to.emit(this.registry, "LicensesRevoked").withArgs(ISSUER_ID, key.address, 4, [d]);
        await expect(responses[2]).to.emit(this.trust, "KeyRetired").withArgs(ISSUER_ID, key.address, t + 1n);
        if (ending.successor !== undefined) {
          await expect(responses[2])
            .to.emit(this.trust, "KeyRotated")
            .withArgs(ISSUER_ID, key.address, this.newKey.address, ending.successor === "self");
        }
        expect(await eventsOf(this.trust, responses[2])).to.deep.equal(ending.events(this, t));
        expect(await this.trust.getKey(key.address)).to.deep.equal([ISSUER_ID, this.keyValidFrom, t + 1n]);

        // the batch was anchored at t by a key valid at t
        for (const license of signed.licenses) {
          expect(await check(this, license, signed.root)).to.deep.equal([
            true,
            key.address,
            ISSUER_ID,
            true,
            t,
            Status.Active,
          ]);
        }
        // the revocation was made at t by a key valid at t: it stands
        await expectStatuses(this, [d], Status.Revoked, 4, { setBy: key.address, setAt: t });
        await time.increase(10);
        await expect(this.registry.connect(authority).voidStatusChanges(ISSUER_ID, [d]))
          .to.be.revertedWithCustomError(this.registry, "LicenseRegistryStatusNotVoidable")
          .withArgs(d);
        // no compromise can be declared from a later time: the window ends after t
        await expect(this.trust.connect(authority).declareKeyCompromised(ISSUER_ID, key.address, t + 1n))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryCompromiseTimeOutOfRange")
          .withArgs(key.address, t + 1n, this.keyValidFrom, t + 1n);
        await expect(this.registry.connect(authority).voidStatusChanges(ISSUER_ID, [d]))
          .to.be.revertedWithCustomError(this.registry, "LicenseRegistryStatusNotVoidable")
          .withArgs(d);

        // a compromise from t itself (the latest time accepted) takes that second's actions with it
        const declaration = this.trust.connect(authority).declareKeyCompromised(ISSUER_ID, key.address, t);
        expect(await eventsOf(this.trust, declaration)).to.deep.equal([
          ["KeyCompromised", ISSUER_ID, key.address, t],
          ...(ending.successor === "self" ? [["KeyCompromised", ISSUER_ID, this.newKey.address, t]] : []),
        ]);
        expect((await check(this, signed.licenses[0], signed.root)).keyValidAtAnchor).to.be.false;
        const voiding = this.registry.connect(authority).voidStatusChanges(ISSUER_ID, [d]);
        await expect(voiding).to.emit(this.registry, "StatusChangesVoided").withArgs(ISSUER_ID, authority.address, [d]);
        await expectStatuses(this, [d], Status.Active, 0, await setBy(authority, voiding));
        if (ending.successor !== undefined) {
          // the successor of a self-rotation is voided; one the authority created stands
          const expected = ending.successor === "self" ? [ISSUER_ID, t, t] : [ISSUER_ID, t, OPEN_END];
          expect(await this.trust.getKey(this.newKey.address)).to.deep.equal(expected);
        }
      });
    }

    it("the rotated key stays valid for the rest of that second (it may still anchor), but cannot rotate again", async function () {
      const { key } = this;
      const batch = await sign(this, 2, key, "after rotation");
      const t = await nextTimestamp(10n);
      const { responses, receipts } = await inOneBlock([
        (o) => this.trust.connect(key).rotateKey(ISSUER_ID, key.address, this.newKey.address, accept(ISSUER_ID, this.newKey.address), o),
        (o) => this.registry.connect(key).anchor(batch.root, batch.digests, o),
        (o) => this.trust.connect(key).rotateKey(ISSUER_ID, key.address, this.spareKey.address, accept(ISSUER_ID, this.spareKey.address), o),
      ]);
      expect(receipts.map((r) => r.status)).to.deep.equal([1, 1, 0]);
      await expect(responses[0])
        .to.emit(this.trust, "KeyRotated")
        .withArgs(ISSUER_ID, key.address, this.newKey.address, true);
      await expect(responses[1])
        .to.emit(this.registry, "BatchAnchored")
        .withArgs(batch.root, ISSUER_ID, key.address, batch.digests);
      expect(await check(this, batch.licenses[0], batch.root)).to.deep.equal([
        true,
        key.address,
        ISSUER_ID,
        true,
        t,
        Status.Active,
      ]);
      // valid through t, but closed by its rotation
      expect(await this.trust.isKeyValid(ISSUER_ID, key.address, t)).to.be.true;
      await expect(outcomeOf(responses[2]))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyClosed")
        .withArgs(ISSUER_ID, key.address);
      expect(await this.trust.getRotation(key.address)).to.deep.equal([this.newKey.address, true, true]);
      expect(await this.trust.getKey(this.spareKey.address)).to.deep.equal([ethers.ZeroHash, 0n, 0n]);
      // from the next second on, the old key can do nothing
      const more = makeBatch(2, "after its second");
      const ts = await nextTimestamp();
      await expect(this.registry.connect(key).anchor(more.root, more.digests))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryKeyNotValid")
        .withArgs(ISSUER_ID, key.address, ts);
    });
  });

  // ----------------------------------------------------------------------------------------------
  // On-chain license checks: licenseDigest, licenseSigner, isInBatch, checkLicense
  // ----------------------------------------------------------------------------------------------

  describe("license checks", function () {
    describe("licenseDigest", function () {
      it("is the EIP-712 struct hash of the header and the sorted commitments", async function () {
        const typeString =
          "License(uint16 formatVersion,bytes32 licenseType,string licenseId,bytes32 issuerId," +
          "uint32 validFrom,uint32 validTo,bytes32[] fieldCommitments)";
        expect(await this.registry.LICENSE_TYPEHASH()).to.equal(ethers.id(typeString));
        for (const n of [0, 1, 5]) {
          const fieldCommitments = makeDigests(n, "commitments");
          expect(await this.registry.licenseDigest(header(n), fieldCommitments)).to.equal(
            ethers.TypedDataEncoder.hashStruct("License", TYPES, { ...header(n), fieldCommitments }),
          );
        }
      });

      it("reverts with LicenseRegistryCommitmentsNotAscending(index) for unsorted or repeated commitments", async function () {
        const c = makeDigests(4, "commitments");
        for (const [commitments, index] of [
          [[c[1], c[0]], 1],
          [[c[0], c[1], c[3], c[2]], 3],
          [[c[0], c[1], c[1]], 2],
        ]) {
          await expect(this.registry.licenseDigest(header(0), commitments))
            .to.be.revertedWithCustomError(this.registry, "LicenseRegistryCommitmentsNotAscending")
            .withArgs(index);
        }
      });
    });

    describe("licenseSigner", function () {
      it("recovers the EIP-712 signer under the contract's domain", async function () {
        const d = await domain(this);
        const fields = await this.registry.eip712Domain();
        expect([fields.name, fields.version, fields.chainId, fields.verifyingContract]).to.deep.equal([
          d.name,
          d.version,
          d.chainId,
          d.verifyingContract,
        ]);
        const value = { ...header(1), fieldCommitments: makeDigests(2, "c") };
        const digest = ethers.TypedDataEncoder.hashStruct("License", TYPES, value);
        const sig = ethers.Signature.from(await this.key.signTypedData(d, TYPES, value));
        expect(await this.registry.licenseSigner(digest, sig.r, sig.yParityAndS)).to.equal(this.key.address);
        // the same signature over another digest recovers another address
        expect(await this.registry.licenseSigner(ethers.id("other"), sig.r, sig.yParityAndS)).not.to.equal(
          this.key.address,
        );
        // a signature under another domain does not recover the key
        const other = ethers.Signature.from(await this.key.signTypedData({ ...d, version: "2" }, TYPES, value));
        expect(await this.registry.licenseSigner(digest, other.r, other.yParityAndS)).not.to.equal(this.key.address);
      });

      it("reverts for an invalid signature", async function () {
        await expect(
          this.registry.licenseSigner(ethers.id("digest"), ethers.ZeroHash, ethers.ZeroHash),
        ).to.be.revertedWithCustomError(this.registry, "ECDSAInvalidSignature");
      });
    });

    describe("isInBatch", function () {
      it("verifies the JS proofs of every digest, and nothing else", async function () {
        const { digests, root } = makeBatch(13, "in-batch");
        for (const [i, digest] of digests.entries()) {
          const proof = merkleProof(digests, i);
          expect(await this.registry.isInBatch(root, proof, digest)).to.be.true;
          expect(await this.registry.isInBatch(root, proof, digests[(i + 1) % digests.length])).to.be.false;
          expect(await this.registry.isInBatch(ethers.id("another root"), proof, digest)).to.be.false;
        }
        expect(await this.registry.isInBatch(root, [], ethers.id("not in the batch"))).to.be.false;
      });
    });

    describe("checkLicense", function () {
      it("reports an anchored license signed by the anchoring key as valid and active", async function () {
        const { licenses, root, timestamp } = await issue(this, 3, this.key);
        for (const license of licenses) {
          expect(await this.registry.licenseDigest(license.header, license.fieldCommitments)).to.equal(
            license.digest,
          );
          expect(await check(this, license, root)).to.deep.equal([
            true,
            this.key.address,
            ISSUER_ID,
            true,
            timestamp,
            Status.Active,
          ]);
        }
        const result = await check(this, licenses[0], root);
        expect(result.anchored).to.be.true;
        expect(result.signer).to.equal(this.key.address);
        expect(result.issuerId).to.equal(ISSUER_ID);
        expect(result.keyValidAtAnchor).to.be.true;
        expect(result.anchoredAt).to.equal(timestamp);
        expect(result.status).to.equal(Status.Active);
      });

      it("reports the license's status", async function () {
        const { licenses, root } = await issue(this, 3, this.key);
        const [a, b, c] = licenses;
        await this.registry.connect(this.authority).suspend(ISSUER_ID, [a.digest], 1);
        await this.registry.connect(this.key).revoke(ISSUER_ID, [b.digest], 2);
        await this.registry.connect(this.key).supersede(ISSUER_ID, [c.digest], [ethers.id("c v2")], 3);
        expect((await check(this, a, root)).status).to.equal(Status.Suspended);
        expect((await check(this, b, root)).status).to.equal(Status.Revoked);
        expect((await check(this, c, root)).status).to.equal(Status.Superseded);
        // statuses of the same digest under another issuer are not the license's
        await this.registry.connect(this.otherKey).revoke(OTHER_ISSUER_ID, [a.digest], 9);
        expect((await check(this, a, root)).status).to.equal(Status.Suspended);
      });

      it("reports a root never anchored, or a wrong proof, as not anchored: all zero but the signer", async function () {
        const { licenses, root, timestamp } = await issue(this, 3, this.key);
        const [a, b] = licenses;
        await this.registry.connect(this.key).revoke(ISSUER_ID, [a.digest], 1);
        expect(await check(this, a, ethers.id("never anchored"))).to.deep.equal(notAnchored(this.key.address));
        expect(await check(this, { ...a, proof: b.proof }, root)).to.deep.equal(notAnchored(this.key.address));
        expect(await check(this, { ...a, proof: [] }, root)).to.deep.equal(notAnchored(this.key.address));
        // the proof of `a` does not prove `b` either (b's signature, a's proof)
        expect(await check(this, { ...b, proof: a.proof }, root)).to.deep.equal(notAnchored(this.key.address));
        expect(timestamp).to.be.greaterThan(0n);
      });

      it("reports nothing but the signer for the zero issuer id, even for a made-up root never anchored", async function () {
        const { licenses, root } = await issue(this, 2, this.key);
        const [a] = licenses;
        expect(await check(this, a, root, ethers.ZeroHash)).to.deep.equal(notAnchored(this.key.address));
        // a root made up of the digest alone (proof []) has no anchor, whose issuer id is zero
        const madeUp = merkleRoot([a.digest]);
        expect(await this.registry.isInBatch(madeUp, [], a.digest)).to.be.true;
        expect((await this.registry.getAnchor(ISSUER_ID, madeUp)).key).to.equal(ethers.ZeroAddress);
        expect(await check(this, { ...a, proof: [] }, madeUp, ethers.ZeroHash)).to.deep.equal(
          notAnchored(this.key.address),
        );
      });

      it("reports a batch anchored by another issuer as not anchored (cross-issuer)", async function () {
        // another issuer's key signs and anchors a license claiming to be of ISSUER_ID
        const forged = await issue(this, 2, this.otherKey, this.otherKey, "X", ISSUER_ID);
        const [license] = forged.licenses;
        expect(license.header.issuerId).to.equal(ISSUER_ID);
        expect(await check(this, license, forged.root, ISSUER_ID)).to.deep.equal(notAnchored(this.otherKey.address));
        // as a license of the issuer that anchored it, it is
        expect(await check(this, license, forged.root, OTHER_ISSUER_ID)).to.deep.equal([
          true,
          this.otherKey.address,
          OTHER_ISSUER_ID,
          true,
          forged.timestamp,
          Status.Active,
        ]);
        // and the other way round: ISSUER_ID's batch checked as OTHER_ISSUER_ID's, whatever its status there
        const own = await issue(this, 1, this.key);
        await this.registry.connect(this.otherKey).revoke(OTHER_ISSUER_ID, [own.licenses[0].digest], 1);
        expect(await check(this, own.licenses[0], own.root, OTHER_ISSUER_ID)).to.deep.equal(
          notAnchored(this.key.address),
        );
        expect(await check(this, own.licenses[0], own.root, UNKNOWN_ISSUER_ID)).to.deep.equal(
          notAnchored(this.key.address),
        );
      });

      it("reverts for an invalid signature", async function () {
        const { licenses, root } = await issue(this, 1, this.key);
        const [a] = licenses;
        await expect(
          this.registry.checkLicense(ISSUER_ID, a.digest, ethers.ZeroHash, ethers.ZeroHash, root, a.proof),
        ).to.be.revertedWithCustomError(this.registry, "ECDSAInvalidSignature");
      });

      it("reports keyValidAtAnchor == false for a license signed by a key other than the anchoring key", async function () {
        const now = BigInt(await time.latest());
        await this.trust.connect(this.authority).addKey(ISSUER_ID, this.spareKey.address, now, OPEN_END, accept(ISSUER_ID, this.spareKey.address));
        const { licenses, root, timestamp } = await issue(this, 2, this.spareKey, this.key);
        expect(await check(this, licenses[0], root)).to.deep.equal([
          true,
          this.spareKey.address,
          ISSUER_ID,
          false,
          timestamp,
          Status.Active,
        ]);
        // ... and for a signature by a key of another issuer
        const forged = await issue(this, 1, this.otherKey, this.key, "B");
        expect(await check(this, forged.licenses[0], forged.root)).to.deep.equal([
          true,
          this.otherKey.address,
          ISSUER_ID,
          false,
          forged.timestamp,
          Status.Active,
        ]);
      });

      it("follows a compromise of the anchoring key: anchored at or after compromisedAt is not valid", async function () {
        const early = await issue(this, 2, this.key);
        await time.increase(10);
        const late = await issue(this, 2, this.key, this.key, "B");
        await time.increase(10);
        await this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.key.address, late.timestamp);
        expect((await check(this, early.licenses[0], early.root)).keyValidAtAnchor).to.be.true;
        expect(await check(this, late.licenses[0], late.root)).to.deep.equal([
          true,
          this.key.address,
          ISSUER_ID,
          false,
          late.timestamp,
          Status.Active,
        ]);
      });

      it("a routine retirement or rotation keeps earlier licenses valid", async function () {
        const { licenses, root } = await issue(this, 2, this.key);
        await this.trust.connect(this.key).rotateKey(ISSUER_ID, this.key.address, this.newKey.address, accept(ISSUER_ID, this.newKey.address));
        expect((await check(this, licenses[0], root)).keyValidAtAnchor).to.be.true;
        const next = await issue(this, 2, this.newKey, this.newKey, "B");
        await this.trust.connect(this.authority).retireKey(ISSUER_ID, this.newKey.address);
        expect((await check(this, next.licenses[0], next.root)).keyValidAtAnchor).to.be.true;
      });
    });
  });

  // ----------------------------------------------------------------------------------------------
  // Gas (product requirements)
  // ----------------------------------------------------------------------------------------------

  describe("gas", function () {
    /** EIP-7623 floor of a transaction: 21000 + 10 * (zero bytes + 4 * non-zero bytes). */
    function calldataFloor(data) {
      const bytes = ethers.getBytes(data);
      const zeros = bytes.filter((b) => b === 0).length;
      return 21000n + 10n * BigInt(zeros + 4 * (bytes.length - zeros));
    }

    async function measure(txPromise, count) {
      const tx = await txPromise;
      const receipt = await tx.wait();
      return { gas: receipt.gasUsed, perLicense: Number(receipt.gasUsed) / count, floor: calldataFloor(tx.data) };
    }

    it("gas per license of anchoring and revoking", async function () {
      const hardfork = hre.config.networks.hardhat.hardfork;
      console.log(`      hardhat hardfork: ${hardfork}`);

      const anchors = {};
      for (const n of [1, 100, 1000]) {
        const { digests, root } = makeBatch(n, `gas-${n}`);
        anchors[n] = { ...(await measure(this.registry.connect(this.key).anchor(root, digests), n)), digests };
        const a = anchors[n];
        console.log(
          `      anchor ${String(n).padStart(4)}: ${a.gas} gas, ${a.perLicense.toFixed(1)} gas/license (calldata floor ${a.floor})`,
        );
      }

      const revokes = {};
      // revoke freshly anchored, active licenses (first write of each status slot: the worst case)
      const toRevoke = { 1: anchors[1000].digests.slice(0, 1), 100: anchors[1000].digests.slice(1, 101) };
      for (const n of [1, 100]) {
        revokes[n] = await measure(this.registry.connect(this.key).revoke(ISSUER_ID, toRevoke[n], 1), n);
        const r = revokes[n];
        console.log(`      revoke ${String(n).padStart(4)}: ${r.gas} gas, ${r.perLicense.toFixed(1)} gas/license`);
      }

      // EIP-7623 (Prague and later) is in force: the anchor of 1000 pays at least the calldata floor
      expect(anchors[1000].gas >= anchors[1000].floor).to.be.true;
      expect(anchors[1000].perLicense).to.be.at.most(1500);
      expect(revokes[100].perLicense).to.be.at.most(25000);
    });
  });
});
