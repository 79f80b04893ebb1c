// LicenseRegistry: License digests, signers, batch proofs and checkLicense.

const { ethers } = require("hardhat");
const { expect } = require("chai");
const { time } = require("@nomicfoundation/hardhat-network-helpers");

const {
  UNKNOWN_ISSUER_ID,
  licenseFixture,
  TYPES,
  header,
  domain,
  issue,
  check,
  notAnchored,
} = require("../helpers/license");
const {
  OPEN_END,
  accept,
  ISSUER_ID,
  OTHER_ISSUER_ID,
  Status,
  merkleRoot,
  merkleProof,
  makeDigests,
  makeBatch,
  loadFixtureNow,
} = require("../helpers");

describe("LicenseRegistry", function () {
  beforeEach(async function () {
    Object.assign(this, await loadFixtureNow(licenseFixture));
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
});
