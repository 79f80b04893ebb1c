// TrustRegistry: License-type permissions of issuers.

const { ethers } = require("hardhat");
const { expect } = require("chai");
const { time } = require("@nomicfoundation/hardhat-network-helpers");

const { shouldOnlyAllowRegionAuthority } = require("../helpers/trust");
const {
  OPEN_END,
  ISSUER_ID,
  OTHER_ISSUER_ID,
  LICENSE_TYPE,
  deployFixture,
  nextTimestamp,
  loadFixtureNow,
} = require("../helpers");

describe("TrustRegistry", function () {
  beforeEach(async function () {
    Object.assign(this, await loadFixtureNow(deployFixture));
  });

  // ----------------------------------------------------------------------------------------------
  // License types
  // ----------------------------------------------------------------------------------------------

  describe("permitLicenseType", function () {
    it("sets the window and emits LicenseTypePermitted", async function () {
      const from = BigInt(await time.latest());
      await expect(this.trust.connect(this.authority).permitLicenseType(ISSUER_ID, LICENSE_TYPE, from, OPEN_END))
        .to.emit(this.trust, "LicenseTypePermitted")
        .withArgs(ISSUER_ID, LICENSE_TYPE, from, OPEN_END);
      expect(await this.trust.getTypePermission(ISSUER_ID, LICENSE_TYPE)).to.deep.equal([from, OPEN_END]);
      expect(await this.trust.mayIssue(ISSUER_ID, LICENSE_TYPE, from)).to.be.true;
      expect(await this.trust.mayIssue(OTHER_ISSUER_ID, LICENSE_TYPE, from)).to.be.false;
    });

    it("replaces an earlier window, which can end a permission", async function () {
      const from = BigInt(await time.latest());
      await this.trust.connect(this.authority).permitLicenseType(ISSUER_ID, LICENSE_TYPE, from, OPEN_END);
      const ts = await nextTimestamp(10n);
      await expect(this.trust.connect(this.authority).permitLicenseType(ISSUER_ID, LICENSE_TYPE, from, ts))
        .to.emit(this.trust, "LicenseTypePermitted")
        .withArgs(ISSUER_ID, LICENSE_TYPE, from, ts);
      expect(await this.trust.getTypePermission(ISSUER_ID, LICENSE_TYPE)).to.deep.equal([from, ts]);
      expect(await this.trust.mayIssue(ISSUER_ID, LICENSE_TYPE, ts - 1n)).to.be.true;
      expect(await this.trust.mayIssue(ISSUER_ID, LICENSE_TYPE, ts)).to.be.false;
    });

    it("reverts for the zero license type", async function () {
      const from = BigInt(await time.latest());
      await expect(
        this.trust.connect(this.authority).permitLicenseType(ISSUER_ID, ethers.ZeroHash, from, OPEN_END),
      ).to.be.revertedWithCustomError(this.trust, "TrustRegistryZeroId");
    });

    it("reverts for an empty window", async function () {
      const from = BigInt(await time.latest());
      await expect(this.trust.connect(this.authority).permitLicenseType(ISSUER_ID, LICENSE_TYPE, from, from))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryInvalidWindow")
        .withArgs(from, from);
      await expect(this.trust.connect(this.authority).permitLicenseType(ISSUER_ID, LICENSE_TYPE, from, from - 1n))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryInvalidWindow")
        .withArgs(from, from - 1n);
    });

    shouldOnlyAllowRegionAuthority(async (ctx, caller, issuerId) =>
      ctx.trust.connect(caller).permitLicenseType(issuerId, LICENSE_TYPE, BigInt(await time.latest()), OPEN_END),
    );
  });
});
