// LicenseRegistry: Deployment, the JS Merkle reference, anchoring batches, anchors.

const { ethers } = require("hardhat");
const { expect } = require("chai");
const { time } = require("@nomicfoundation/hardhat-network-helpers");

const { UNKNOWN_ISSUER_ID, MAX_BATCH_SIZE, licenseFixture, sign, check, notAnchored } = require("../helpers/license");
const {
  OPEN_END,
  accept,
  ISSUER_ID,
  OTHER_ISSUER_ID,
  Status,
  INVALID_KEY_KINDS,
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
  loadFixtureNow,
} = require("../helpers");

describe("LicenseRegistry", function () {
  beforeEach(async function () {
    Object.assign(this, await loadFixtureNow(licenseFixture));
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
});
