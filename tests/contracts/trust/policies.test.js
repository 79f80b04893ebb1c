// TrustRegistry: co-approval policies (联合审批, docs/joint.md): which departments must co-sign the
// joint anchors of a license type's licenses issued in a region.

const { ethers } = require("hardhat");
const { expect } = require("chai");

const { UNKNOWN_ISSUER_ID, NEW_ISSUER_ID, UNKNOWN_REGION } = require("../helpers/trust");
const { REGION, OTHER_REGION, ISSUER_ID, OTHER_ISSUER_ID, LICENSE_TYPE, deployFixture, loadFixtureNow } =
  require("../helpers");

const byValue = (a, b) => (BigInt(a) < BigInt(b) ? -1 : 1);

describe("TrustRegistry", function () {
  beforeEach(async function () {
    Object.assign(this, await loadFixtureNow(deployFixture));
    // a second Beijing department
    await this.trust.connect(this.authority).registerIssuer(NEW_ISSUER_ID, REGION, "北京市消防救援总队", ethers.ZeroHash, "");
    this.policy = [ISSUER_ID, NEW_ISSUER_ID, OTHER_ISSUER_ID].sort(byValue);
  });

  describe("setCoApprovalPolicy", function () {
    it("sets the policy (departments of any region), emits CoApprovalPolicySet", async function () {
      await expect(this.trust.connect(this.authority).setCoApprovalPolicy(REGION, LICENSE_TYPE, this.policy))
        .to.emit(this.trust, "CoApprovalPolicySet")
        .withArgs(REGION, LICENSE_TYPE, this.policy);
      expect(await this.trust.getCoApprovalPolicy(REGION, LICENSE_TYPE)).to.deep.equal(this.policy);
      expect(await this.trust.getCoApprovalPolicy(OTHER_REGION, LICENSE_TYPE)).to.deep.equal([]);
      expect(await this.trust.getCoApprovalPolicy(REGION, ethers.id("another type"))).to.deep.equal([]);
    });

    it("replaces a policy, and an empty list ends it", async function () {
      await this.trust.connect(this.authority).setCoApprovalPolicy(REGION, LICENSE_TYPE, this.policy);
      await this.trust.connect(this.authority).setCoApprovalPolicy(REGION, LICENSE_TYPE, [NEW_ISSUER_ID]);
      expect(await this.trust.getCoApprovalPolicy(REGION, LICENSE_TYPE)).to.deep.equal([NEW_ISSUER_ID]);
      await expect(this.trust.connect(this.authority).setCoApprovalPolicy(REGION, LICENSE_TYPE, []))
        .to.emit(this.trust, "CoApprovalPolicySet")
        .withArgs(REGION, LICENSE_TYPE, []);
      expect(await this.trust.getCoApprovalPolicy(REGION, LICENSE_TYPE)).to.deep.equal([]);
    });

    describe("access (authorities of the region only)", function () {
      for (const [who, description] of Object.entries({
        stranger: "a stranger",
        otherAuthority: "an authority of another region",
        key: "a valid signing key of an issuer of the region",
        admin: "the federation admin",
      })) {
        it(`refuses ${description}`, async function () {
          await expect(this.trust.connect(this[who]).setCoApprovalPolicy(REGION, LICENSE_TYPE, this.policy))
            .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotRegionAuthority")
            .withArgs(REGION, this[who].address);
        });
      }

      it("refuses a removed authority, and an unknown region", async function () {
        await this.trust.connect(this.admin).removeRegionAuthority(REGION, this.authority.address);
        await expect(this.trust.connect(this.authority).setCoApprovalPolicy(REGION, LICENSE_TYPE, this.policy))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotRegionAuthority")
          .withArgs(REGION, this.authority.address);
        await expect(this.trust.connect(this.authority).setCoApprovalPolicy(UNKNOWN_REGION, LICENSE_TYPE, this.policy))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryUnknownRegion")
          .withArgs(UNKNOWN_REGION);
      });
    });

    describe("bad input", function () {
      it("refuses the zero license type", async function () {
        await expect(this.trust.connect(this.authority).setCoApprovalPolicy(REGION, ethers.ZeroHash, this.policy))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryZeroId");
      });

      it("refuses more than 16 departments", async function () {
        const many = Array.from({ length: 17 }, (_, i) => ethers.toBeHex(i + 1, 32));
        expect(await this.trust.MAX_POLICY_DEPARTMENTS()).to.equal(16n);
        await expect(this.trust.connect(this.authority).setCoApprovalPolicy(REGION, LICENSE_TYPE, many))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryTooManyDepartments")
          .withArgs(17, 16);
      });

      it("refuses departments out of order, repeated, or zero", async function () {
        const [a, b] = this.policy;
        for (const [list, index] of [
          [[b, a], 1],
          [[a, a], 1],
          [[ethers.ZeroHash, a], 0],
        ]) {
          await expect(this.trust.connect(this.authority).setCoApprovalPolicy(REGION, LICENSE_TYPE, list))
            .to.be.revertedWithCustomError(this.trust, "TrustRegistryDepartmentsNotAscending")
            .withArgs(index);
        }
      });

      it("refuses a department that is not a registered issuer", async function () {
        const list = [...this.policy, UNKNOWN_ISSUER_ID].sort(byValue);
        await expect(this.trust.connect(this.authority).setCoApprovalPolicy(REGION, LICENSE_TYPE, list))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryUnknownIssuer")
          .withArgs(UNKNOWN_ISSUER_ID);
      });
    });
  });
});
