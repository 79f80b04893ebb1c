// LicenseRegistry: joint anchors (docs/joint.md): a bundle of member licenses co-signed by several
// departments with one BLS12-381 aggregate signature, checked on chain. The attack tests come first.

const { ethers } = require("hardhat");
const { expect } = require("chai");
const { time } = require("@nomicfoundation/hardhat-network-helpers");

const { REGION, OTHER_REGION, OPEN_END, ISSUER_ID, LICENSE_TYPE, usccId, makeUscc, loadFixtureNow, INVALID_KEY_KINDS, makeInvalidKey, nextTimestamp, eventsOf, inOneBlock, outcomeOf } =
  require("../helpers");
const { P, rawG1, makeKey, coSign, fastAggregateVerify } = require("../helpers/bls");
const {
  FOOD_PERMIT,
  FIRE_PERMIT,
  HEALTH_PERMIT,
  jointFixture,
  makeBundle,
  member,
  registryDomain,
  bundleDigestOf,
  publicKeysOf,
  coKeysOf,
  coSigned,
  anchorJoint,
} = require("../helpers/joint");

const MAX_ID = `0x${"ff".repeat(32)}`;

describe("LicenseRegistry", function () {
  beforeEach(async function () {
    Object.assign(this, await loadFixtureNow(jointFixture));
    const [d0, d1, d2] = this.departments;
    this.d0 = d0;
    this.d1 = d1;
    this.d2 = d2;
    // three members from two departments, co-signed by both
    this.bundle = makeBundle(
      [member(d0.issuerId, LICENSE_TYPE, "a"), member(d0.issuerId, FOOD_PERMIT, "b"), member(d1.issuerId, FIRE_PERMIT, "c")],
      [d0.issuerId, d1.issuerId],
    );
  });

  describe("anchorJoint", function () {
    // ------------------------------------------------------------------------------------------
    // The bundle's shape
    // ------------------------------------------------------------------------------------------

    describe("malformed bundles (LicenseRegistryInvalidBundle)", function () {
      const lengths = (b, n) => {
        const ds = Array.from({ length: n }, (_, i) => ethers.toBeHex(i + 1, 32));
        return { ...b, digests: ds, licenseTypes: ds.map(() => LICENSE_TYPE), issuerIds: ds.map(() => b.departments[0]) };
      };
      const swap = (list) => [list[1], list[0], ...list.slice(2)];
      const cases = [
        ["a zero application id", "zero application id", (b) => ({ ...b, applicationId: ethers.ZeroHash })],
        ["a zero applicant", "zero applicant", (b) => ({ ...b, applicant: ethers.ZeroHash })],
        ["no members", "no members", (b) => ({ ...b, digests: [], licenseTypes: [], issuerIds: [] })],
        ["65 members", "more than 64 members", (b) => lengths(b, 65)],
        ["a license type missing", "member lists differ in length", (b) => ({ ...b, licenseTypes: b.licenseTypes.slice(1) })],
        ["an issuer too many", "member lists differ in length", (b) => ({ ...b, issuerIds: [...b.issuerIds, b.issuerIds[0]] })],
        ["no departments", "no departments", (b) => ({ ...b, departments: [] })],
        [
          "17 departments",
          "more than 16 departments",
          (b) => ({ ...b, departments: Array.from({ length: 17 }, (_, i) => ethers.toBeHex(i + 1, 32)) }),
        ],
        [
          "members out of order",
          "members not ascending by digest",
          (b) => ({ ...b, digests: swap(b.digests), licenseTypes: swap(b.licenseTypes), issuerIds: swap(b.issuerIds) }),
        ],
        ["a member twice", "members not ascending by digest", (b) => ({ ...b, digests: [b.digests[0], ...b.digests.slice(0, 2)] })],
        ["a zero digest", "members not ascending by digest", (b) => ({ ...b, digests: [ethers.ZeroHash, ...b.digests.slice(1)] })],
        ["departments out of order", "departments not ascending", (b) => ({ ...b, departments: swap(b.departments) })],
        ["a department twice", "departments not ascending", (b) => ({ ...b, departments: [b.departments[0], b.departments[0]] })],
      ];
      for (const [title, reason, mutate] of cases) {
        it(`refuses a bundle with ${title}`, async function () {
          const bundle = mutate(this.bundle);
          const keys = ethers.concat(bundle.departments.map(() => this.d0.coKey.publicKey));
          await expect(this.registry.connect(this.d0.signer).anchorJoint(bundle, keys, new Uint8Array(256)))
            .to.be.revertedWithCustomError(this.registry, "LicenseRegistryInvalidBundle")
            .withArgs(reason);
          await expect(this.registry.jointBundleDigest(bundle))
            .to.be.revertedWithCustomError(this.registry, "LicenseRegistryInvalidBundle")
            .withArgs(reason);
        });
      }

      it("refuses public keys that are not 128 bytes per department", async function () {
        const signed = await coSigned(this, this.bundle);
        for (const keys of [
          ethers.dataSlice(signed.publicKeys, 0, 255),
          ethers.concat([signed.publicKeys, "0x00"]),
          this.d0.coKey.publicKey,
          "0x",
        ]) {
          await expect(anchorJoint(this, this.d0.signer, { ...signed, publicKeys: keys }))
            .to.be.revertedWithCustomError(this.registry, "LicenseRegistryInvalidBundle")
            .withArgs("public keys: 128 bytes per department");
        }
      });

      it("refuses a member whose issuer is not a department", async function () {
        const stray = member(this.d2.issuerId, LICENSE_TYPE, "stray");
        const bundle = makeBundle([member(this.d0.issuerId, LICENSE_TYPE, "a"), stray], [this.d0.issuerId, this.d1.issuerId]);
        const signed = await coSigned(this, bundle);
        await expect(anchorJoint(this, this.d0.signer, signed))
          .to.be.revertedWithCustomError(this.registry, "LicenseRegistryMemberIssuerNotCoSigner")
          .withArgs(stray.digest, this.d2.issuerId);
      });
    });

    // ------------------------------------------------------------------------------------------
    // Who may anchor
    // ------------------------------------------------------------------------------------------

    describe("the sender (LicenseRegistryNotParticipant)", function () {
      for (const who of ["stranger", "authority", "admin", "otherKey"]) {
        it(`refuses ${who === "otherKey" ? "a valid signing key of an issuer that is not a department" : `the ${who}`}`, async function () {
          const signed = await coSigned(this, this.bundle);
          const sender = this[who];
          await expect(anchorJoint(this, sender, signed))
            .to.be.revertedWithCustomError(this.registry, "LicenseRegistryNotParticipant")
            .withArgs(sender.address);
        });
      }

      it("refuses a valid signing key of a department of the region that does not co-sign", async function () {
        const signed = await coSigned(this, this.bundle);
        await expect(anchorJoint(this, this.d2.signer, signed))
          .to.be.revertedWithCustomError(this.registry, "LicenseRegistryNotParticipant")
          .withArgs(this.d2.signer.address);
      });

      for (const kind of INVALID_KEY_KINDS) {
        it(`refuses a department's signing key that is ${kind}`, async function () {
          // makeInvalidKey makes the spare account a key of ISSUER_ID (one of the departments)
          const dept = this.departments.find((d) => d.issuerId === ISSUER_ID);
          const bundle = makeBundle([member(ISSUER_ID, LICENSE_TYPE, "x")], [ISSUER_ID]);
          const sender = await makeInvalidKey(this, kind);
          const signed = await coSigned(this, bundle);
          await expect(anchorJoint(this, sender, signed))
            .to.be.revertedWithCustomError(this.registry, "LicenseRegistryNotParticipant")
            .withArgs(sender.address);
          // while the department's valid key may
          await expect(anchorJoint(this, dept.signer, signed)).to.emit(this.registry, "JointAnchored");
        });
      }

      it("succeeds for a valid signing key of any co-signing department", async function () {
        const signed = await coSigned(this, this.bundle);
        await expect(anchorJoint(this, this.d1.signer, signed)).to.emit(this.registry, "JointAnchored");
      });
    });

    // ------------------------------------------------------------------------------------------
    // The departments and their co-signing keys
    // ------------------------------------------------------------------------------------------

    describe("co-signing keys (LicenseRegistryCoSigningKeyNotValid)", function () {
      async function expectKeyNotValid(ctx, signed, issuerId, keyId) {
        const at = await nextTimestamp();
        await expect(anchorJoint(ctx, ctx.d0.signer, signed))
          .to.be.revertedWithCustomError(ctx.registry, "LicenseRegistryCoSigningKeyNotValid")
          .withArgs(issuerId, keyId, at);
      }

      it("refuses a key never registered (even when it signed)", async function () {
        const stray = makeKey("never registered");
        const coKeys = coKeysOf(this);
        coKeys.set(this.d1.issuerId, stray);
        const signed = await coSigned(this, this.bundle, {
          keys: publicKeysOf(this.bundle, coKeys),
          signers: [this.d0.coKey, stray],
        });
        await expectKeyNotValid(this, signed, this.d1.issuerId, stray.keyId);
      });

      it("refuses another department's key given for a department", async function () {
        const coKeys = coKeysOf(this);
        coKeys.set(this.d1.issuerId, this.d2.coKey);
        const signed = await coSigned(this, this.bundle, {
          keys: publicKeysOf(this.bundle, coKeys),
          signers: [this.d0.coKey, this.d2.coKey],
        });
        await expectKeyNotValid(this, signed, this.d1.issuerId, this.d2.coKey.keyId);
      });

      it("refuses a key not valid yet", async function () {
        const later = makeKey("later");
        const from = BigInt(await time.latest()) + 1000n;
        await this.trust.connect(this.authority).addCoSigningKey(this.d1.issuerId, later.publicKey, later.proof, from, OPEN_END);
        const coKeys = coKeysOf(this);
        coKeys.set(this.d1.issuerId, later);
        const signed = await coSigned(this, this.bundle, { keys: publicKeysOf(this.bundle, coKeys), signers: [this.d0.coKey, later] });
        await expectKeyNotValid(this, signed, this.d1.issuerId, later.keyId);
      });

      it("refuses a retired key (from the second after its retirement)", async function () {
        await this.trust.connect(this.authority).retireCoSigningKey(this.d1.issuerId, this.d1.coKey.keyId);
        await time.increase(1);
        await expectKeyNotValid(this, await coSigned(this, this.bundle), this.d1.issuerId, this.d1.coKey.keyId);
      });

      it("refuses a key rotated away, and accepts its successor", async function () {
        const next = makeKey("successor");
        await this.trust.connect(this.authority).rotateCoSigningKey(this.d1.issuerId, this.d1.coKey.keyId, next.publicKey, next.proof);
        await time.increase(1);
        await expectKeyNotValid(this, await coSigned(this, this.bundle), this.d1.issuerId, this.d1.coKey.keyId);
        const coKeys = coKeysOf(this);
        coKeys.set(this.d1.issuerId, next);
        const signed = await coSigned(this, this.bundle, { keys: publicKeysOf(this.bundle, coKeys), signers: [this.d0.coKey, next] });
        await expect(anchorJoint(this, this.d0.signer, signed)).to.emit(this.registry, "JointAnchored");
      });

      it("counts the old key through the second of its rotation (same block)", async function () {
        const next = makeKey("same block");
        const signed = await coSigned(this, this.bundle);
        const { responses } = await inOneBlock([
          (o) => this.trust.connect(this.authority).rotateCoSigningKey(this.d1.issuerId, this.d1.coKey.keyId, next.publicKey, next.proof, o),
          (o) => this.registry.connect(this.d0.signer).anchorJoint(signed.bundle, signed.publicKeys, signed.signature, o),
        ]);
        await expect(outcomeOf(responses[1])).to.emit(this.registry, "JointAnchored");
        expect((await this.trust.getCoSigningKey(this.d1.coKey.keyId)).closed).to.be.true;
      });

      it("refuses a key declared compromised before the anchor", async function () {
        await time.increase(10);
        const compromisedAt = BigInt(await time.latest()) - 5n;
        await this.trust
          .connect(this.authority)
          .declareCoSigningKeyCompromised(this.d1.issuerId, this.d1.coKey.keyId, compromisedAt);
        await expectKeyNotValid(this, await coSigned(this, this.bundle), this.d1.issuerId, this.d1.coKey.keyId);
      });

      it("refuses a point off the curve that has the registered key's id (same x, y of the same sign)", async function () {
        const { x, y } = this.d1.coKey.pk.toAffine();
        // another y on the same side of (p - 1) / 2: same compressed form, same key id, not on the curve
        const otherY = y > (P - 1n) / 2n ? y - 1n : y + 1n;
        const forged = rawG1(x, otherY);
        const coKeys = coKeysOf(this);
        const keys = ethers.concat(this.bundle.departments.map((id) => (id === this.d1.issuerId ? forged : coKeys.get(id).publicKey)));
        const signed = await coSigned(this, this.bundle, { keys });
        expect(await this.trust.coSigningKeyId(forged)).to.equal(this.d1.coKey.keyId);
        await expectKeyNotValid(this, signed, this.d1.issuerId, this.d1.coKey.keyId);
      });

      it("refuses an x not below p whose flag bits hide it in the key id", async function () {
        const { x, y } = this.d1.coKey.pk.toAffine();
        const forged = rawG1(x | (1n << 383n), y); // top bit: masked by the compression flag
        const coKeys = coKeysOf(this);
        const keys = ethers.concat(this.bundle.departments.map((id) => (id === this.d1.issuerId ? forged : coKeys.get(id).publicKey)));
        expect(await this.trust.coSigningKeyId(forged)).to.equal(this.d1.coKey.keyId);
        await expectKeyNotValid(this, await coSigned(this, this.bundle, { keys }), this.d1.issuerId, this.d1.coKey.keyId);
      });

      it("refuses infinity and encodings with non-zero top bytes", async function () {
        const coKeys = coKeysOf(this);
        const withKey = (k) => ethers.concat(this.bundle.departments.map((id) => (id === this.d1.issuerId ? k : coKeys.get(id).publicKey)));
        const infinity = new Uint8Array(128);
        const infinityId = ethers.keccak256(ethers.concat(["0x80", new Uint8Array(47)]));
        await expectKeyNotValid(this, await coSigned(this, this.bundle, { keys: withKey(infinity) }), this.d1.issuerId, infinityId);
        const padded = ethers.getBytes(this.d1.coKey.publicKey);
        padded[3] = 7;
        await expectKeyNotValid(this, await coSigned(this, this.bundle, { keys: withKey(padded) }), this.d1.issuerId, this.d1.coKey.keyId);
      });

      it("refuses an inactive department, and an unknown one", async function () {
        await this.trust.connect(this.authority).setIssuerActive(this.d1.issuerId, false);
        await expect(anchorJoint(this, this.d0.signer, await coSigned(this, this.bundle)))
          .to.be.revertedWithCustomError(this.registry, "LicenseRegistryIssuerInactive")
          .withArgs(this.d1.issuerId);
        await this.trust.connect(this.authority).setIssuerActive(this.d1.issuerId, true);
        const unknown = ethers.toBeHex(BigInt(this.d0.issuerId) + 1n, 32);
        const bundle = makeBundle([member(this.d0.issuerId, LICENSE_TYPE, "a")], [this.d0.issuerId, unknown]);
        const keys = ethers.concat(bundle.departments.map((id) => (id === unknown ? this.d2.coKey.publicKey : this.d0.coKey.publicKey)));
        await expect(anchorJoint(this, this.d0.signer, await coSigned(this, bundle, { keys, signers: [this.d0.coKey] })))
          .to.be.revertedWithCustomError(this.registry, "LicenseRegistryUnknownIssuer")
          .withArgs(unknown);
      });
    });

    // ------------------------------------------------------------------------------------------
    // Permissions and co-approval policies
    // ------------------------------------------------------------------------------------------

    describe("permissions and co-approval policies", function () {
      it("refuses a member whose issuer may not issue its type now", async function () {
        const now = BigInt(await time.latest());
        await this.trust.connect(this.authority).permitLicenseType(this.d1.issuerId, FIRE_PERMIT, now - 10n, now);
        await expect(anchorJoint(this, this.d0.signer, await coSigned(this, this.bundle)))
          .to.be.revertedWithCustomError(this.registry, "LicenseRegistryTypeNotPermitted")
          .withArgs(this.d1.issuerId, FIRE_PERMIT);
        const unpermitted = ethers.id("license-type:never-permitted");
        const bundle = makeBundle([member(this.d0.issuerId, unpermitted, "u")], [this.d0.issuerId]);
        await expect(anchorJoint(this, this.d0.signer, await coSigned(this, bundle)))
          .to.be.revertedWithCustomError(this.registry, "LicenseRegistryTypeNotPermitted")
          .withArgs(this.d0.issuerId, unpermitted);
      });

      it("refuses a bundle missing a co-signature a policy requires, and accepts it with that co-signature", async function () {
        // food permits of the region need the approval of d2 (besides their issuer's)
        const required = [this.d0.issuerId, this.d2.issuerId].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
        await this.trust.connect(this.authority).setCoApprovalPolicy(REGION, FOOD_PERMIT, required);
        const food = this.bundle.digests[this.bundle.licenseTypes.indexOf(FOOD_PERMIT)];
        await expect(anchorJoint(this, this.d0.signer, await coSigned(this, this.bundle)))
          .to.be.revertedWithCustomError(this.registry, "LicenseRegistryCoApprovalMissing")
          .withArgs(food, FOOD_PERMIT, this.d2.issuerId);
        // the same members with d2 among the co-signers
        const withD2 = { ...this.bundle, departments: [...this.bundle.departments, this.d2.issuerId].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)) };
        await expect(anchorJoint(this, this.d0.signer, await coSigned(this, withD2))).to.emit(this.registry, "JointAnchored");
      });

      it("applies a policy to the member issuer's region only", async function () {
        await this.trust.connect(this.otherAuthority).setCoApprovalPolicy(OTHER_REGION, FOOD_PERMIT, [this.other.issuerId]);
        await expect(anchorJoint(this, this.d0.signer, await coSigned(this, this.bundle))).to.emit(this.registry, "JointAnchored");
      });

      it("stops requiring co-approval once the policy is ended", async function () {
        await this.trust.connect(this.authority).setCoApprovalPolicy(REGION, FIRE_PERMIT, [this.d2.issuerId]);
        const fire = this.bundle.digests[this.bundle.licenseTypes.indexOf(FIRE_PERMIT)];
        await expect(anchorJoint(this, this.d0.signer, await coSigned(this, this.bundle)))
          .to.be.revertedWithCustomError(this.registry, "LicenseRegistryCoApprovalMissing")
          .withArgs(fire, FIRE_PERMIT, this.d2.issuerId);
        await this.trust.connect(this.authority).setCoApprovalPolicy(REGION, FIRE_PERMIT, []);
        await expect(anchorJoint(this, this.d0.signer, await coSigned(this, this.bundle))).to.emit(this.registry, "JointAnchored");
      });
    });

    // ------------------------------------------------------------------------------------------
    // The aggregate signature
    // ------------------------------------------------------------------------------------------

    describe("the aggregate (LicenseRegistryInvalidAggregateSignature)", function () {
      async function expectInvalid(ctx, signed) {
        await expect(anchorJoint(ctx, ctx.d0.signer, signed))
          .to.be.revertedWithCustomError(ctx.registry, "LicenseRegistryInvalidAggregateSignature")
          .withArgs(signed.digest);
      }

      it("refuses an aggregate with one department's signature left out", async function () {
        const signed = await coSigned(this, this.bundle, { signers: [this.d0.coKey] });
        await expectInvalid(this, signed);
      });

      it("refuses an aggregate of another message (another bundle's digest)", async function () {
        const signed = await coSigned(this, this.bundle);
        const otherBundle = { ...this.bundle, applicant: ethers.id("another applicant") };
        const otherDigest = bundleDigestOf(otherBundle, await registryDomain(this.registry));
        await expectInvalid(this, { ...signed, signature: coSign([this.d0.coKey, this.d1.coKey], otherDigest) });
      });

      it("refuses an aggregate made under another deployment's domain", async function () {
        const elsewhere = ethers.Wallet.createRandom().address;
        const foreign = await coSigned(this, this.bundle, { domain: await registryDomain(this.registry, elsewhere) });
        const signed = await coSigned(this, this.bundle);
        expect(foreign.digest).not.to.equal(signed.digest);
        await expectInvalid(this, { ...signed, signature: foreign.signature });
      });

      it("refuses signatures made with another DST (proof-of-possession tag) or by the same key twice", async function () {
        const signed = await coSigned(this, this.bundle);
        const POP_DST = "BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";
        await expectInvalid(this, { ...signed, signature: coSign([this.d0.coKey, this.d1.coKey], signed.digest, POP_DST) });
        await expectInvalid(this, { ...signed, signature: coSign([this.d0.coKey, this.d0.coKey], signed.digest) });
      });

      it("refuses a signature of the wrong length, infinity, and points off the curve", async function () {
        const signed = await coSigned(this, this.bundle);
        const flipped = ethers.getBytes(signed.signature);
        flipped[255] ^= 1;
        const topByte = ethers.getBytes(signed.signature);
        topByte[64] = 1;
        for (const signature of [
          ethers.dataSlice(signed.signature, 0, 255),
          ethers.concat([signed.signature, "0x00"]),
          "0x",
          new Uint8Array(256),
          flipped,
          topByte,
        ]) {
          await expectInvalid(this, { ...signed, signature });
        }
      });
    });

    // ------------------------------------------------------------------------------------------
    // Success, replays
    // ------------------------------------------------------------------------------------------

    describe("success", function () {
      it("anchors a co-signed bundle: record, event with the whole bundle and the key ids", async function () {
        const signed = await coSigned(this, this.bundle);
        expect(fastAggregateVerify([this.d0.coKey, this.d1.coKey], signed.digest, signed.signature)).to.be.true;
        expect(await this.registry.connect(this.d0.signer).anchorJoint.staticCall(signed.bundle, signed.publicKeys, signed.signature)).to.equal(
          signed.digest,
        );
        const at = await nextTimestamp();
        const tx = anchorJoint(this, this.d0.signer, signed);
        const keyIds = this.bundle.departments.map((id) => coKeysOf(this).get(id).keyId);
        await expect(tx)
          .to.emit(this.registry, "JointAnchored")
          .withArgs(
            signed.digest,
            this.bundle.applicationId,
            this.d0.signer.address,
            this.bundle.applicant,
            this.bundle.digests,
            this.bundle.licenseTypes,
            this.bundle.issuerIds,
            this.bundle.departments,
            keyIds,
          );
        expect(await eventsOf(this.registry, tx)).to.have.length(1);
        const receipt = await (await tx).wait();
        expect(await this.registry.getJointAnchor(signed.digest)).to.deep.equal([this.d0.signer.address, at, BigInt(receipt.blockNumber)]);
      });

      it("refuses the same bundle twice (LicenseRegistryJointExists), whoever sends it", async function () {
        const signed = await coSigned(this, this.bundle);
        await anchorJoint(this, this.d0.signer, signed);
        for (const sender of [this.d0.signer, this.d1.signer]) {
          await expect(anchorJoint(this, sender, signed))
            .to.be.revertedWithCustomError(this.registry, "LicenseRegistryJointExists")
            .withArgs(signed.digest);
        }
      });

      it("anchors a bundle of one department and one member", async function () {
        const bundle = makeBundle([member(this.d2.issuerId, HEALTH_PERMIT, "solo")], [this.d2.issuerId]);
        await expect(anchorJoint(this, this.d2.signer, await coSigned(this, bundle))).to.emit(this.registry, "JointAnchored");
      });

      it("anchors 64 members from 16 departments", async function () {
        // 11 more departments, registered like the fixture's
        const now = BigInt(await time.latest());
        const depts = [...this.departments];
        for (let i = 0; i < 11; ++i) {
          const issuerId = usccId(makeUscc(110000, `MC${String(i).padStart(7, "0")}`));
          await this.trust.connect(this.authority).registerIssuer(issuerId, REGION, `部门 x${i}`, ethers.ZeroHash, "");
          const coKey = makeKey(`extra ${i}`);
          await this.trust.connect(this.authority).addCoSigningKey(issuerId, coKey.publicKey, coKey.proof, now, OPEN_END);
          await this.trust.connect(this.authority).permitLicenseType(issuerId, LICENSE_TYPE, now, OPEN_END);
          depts.push({ issuerId, coKey });
        }
        const members = Array.from({ length: 64 }, (_, i) => member(depts[i % 16].issuerId, LICENSE_TYPE, `m${i}`));
        const bundle = makeBundle(members, depts.map((d) => d.issuerId));
        const coKeys = new Map(depts.map((d) => [d.issuerId, d.coKey]));
        const digest = bundleDigestOf(bundle, await registryDomain(this.registry));
        const signed = {
          bundle,
          digest,
          publicKeys: publicKeysOf(bundle, coKeys),
          signature: coSign(bundle.departments.map((id) => coKeys.get(id)), digest),
        };
        const receipt = await (await anchorJoint(this, this.d0.signer, signed)).wait();
        console.log(`      anchorJoint of 64 members from 16 departments: ${receipt.gasUsed} gas`);
        expect((await this.registry.getJointAnchor(digest)).submitter).to.equal(this.d0.signer.address);
      });
    });
  });

  // ----------------------------------------------------------------------------------------------
  // The bundle digest
  // ----------------------------------------------------------------------------------------------

  describe("jointBundleDigest", function () {
    it("is the EIP-712 digest of docs/joint.md under the registry's domain (computed independently in JS)", async function () {
      const domain = await registryDomain(this.registry);
      expect(await this.registry.jointBundleDigest(this.bundle)).to.equal(bundleDigestOf(this.bundle, domain));
      expect(await this.registry.JOINT_MEMBER_TYPEHASH()).to.equal(
        ethers.id("JointMember(bytes32 digest,bytes32 licenseType,bytes32 issuerId)"),
      );
      expect(await this.registry.JOINT_BUNDLE_TYPEHASH()).to.equal(
        ethers.id(
          "JointBundle(bytes32 applicationId,bytes32 applicant,JointMember[] members,bytes32[] departments)" +
            "JointMember(bytes32 digest,bytes32 licenseType,bytes32 issuerId)",
        ),
      );
      expect(await this.registry.MAX_JOINT_MEMBERS()).to.equal(64n);
      expect(await this.registry.MAX_JOINT_DEPARTMENTS()).to.equal(16n);
    });

    it("changes with every field, and with the deployment", async function () {
      const domain = await registryDomain(this.registry);
      const base = await this.registry.jointBundleDigest(this.bundle);
      const variants = [
        { ...this.bundle, applicationId: ethers.id("other") },
        { ...this.bundle, applicant: ethers.id("other") },
        { ...this.bundle, licenseTypes: [HEALTH_PERMIT, ...this.bundle.licenseTypes.slice(1)] },
        { ...this.bundle, issuerIds: [this.d1.issuerId, ...this.bundle.issuerIds.slice(1)] },
        { ...this.bundle, digests: [...this.bundle.digests.slice(0, 2), MAX_ID] },
        { ...this.bundle, departments: [...this.bundle.departments, MAX_ID] },
      ];
      for (const v of variants) {
        const digest = await this.registry.jointBundleDigest(v);
        expect(digest).not.to.equal(base);
        expect(digest).to.equal(bundleDigestOf(v, domain));
      }
      const elsewhere = await ethers.deployContract("LicenseRegistry", [await this.trust.getAddress()]);
      expect(await elsewhere.jointBundleDigest(this.bundle)).not.to.equal(base);
    });
  });
});
