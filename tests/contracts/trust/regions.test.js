// TrustRegistry: Deployment, regions and their authorities (federation admins).

const { ethers } = require("hardhat");
const { expect } = require("chai");
const { time } = require("@nomicfoundation/hardhat-network-helpers");

const { NEW_ISSUER_ID, UNKNOWN_REGION, shouldOnlyAllowFederationAdmin } = require("../helpers/trust");
const {
  OPEN_END,
  REGION,
  REGION_NAME,
  OTHER_REGION,
  accept,
  ISSUER_ID,
  OTHER_ISSUER_ID,
  LICENSE_TYPE,
  deployFixture,
  loadFixtureNow,
} = require("../helpers");

describe("TrustRegistry", function () {
  beforeEach(async function () {
    Object.assign(this, await loadFixtureNow(deployFixture));
  });

  describe("deployment", function () {
    it("grants DEFAULT_ADMIN_ROLE and FEDERATION_ADMIN_ROLE to the admin", async function () {
      expect(this.FEDERATION_ADMIN_ROLE).to.equal(ethers.id("FEDERATION_ADMIN_ROLE"));
      expect(this.DEFAULT_ADMIN_ROLE).to.equal(ethers.ZeroHash);
      expect(await this.trust.hasRole(this.DEFAULT_ADMIN_ROLE, this.admin.address)).to.be.true;
      expect(await this.trust.hasRole(this.FEDERATION_ADMIN_ROLE, this.admin.address)).to.be.true;
      expect(await this.trust.getRoleAdmin(this.FEDERATION_ADMIN_ROLE)).to.equal(this.DEFAULT_ADMIN_ROLE);
      expect(await this.trust.OPEN_END()).to.equal(OPEN_END);
    });

    it("emits RoleGranted for both roles", async function () {
      const factory = await ethers.getContractFactory("TrustRegistry");
      const trust = await factory.deploy(this.stranger.address);
      const tx = trust.deploymentTransaction();
      await expect(tx)
        .to.emit(trust, "RoleGranted")
        .withArgs(this.DEFAULT_ADMIN_ROLE, this.stranger.address, this.admin.address);
      await expect(tx)
        .to.emit(trust, "RoleGranted")
        .withArgs(this.FEDERATION_ADMIN_ROLE, this.stranger.address, this.admin.address);
    });

    it("reverts for the zero admin", async function () {
      const factory = await ethers.getContractFactory("TrustRegistry");
      await expect(factory.deploy(ethers.ZeroAddress)).to.be.revertedWithCustomError(
        factory,
        "TrustRegistryZeroAddress",
      );
    });
  });

  // ----------------------------------------------------------------------------------------------
  // Regions
  // ----------------------------------------------------------------------------------------------

  describe("addRegion", function () {
    it("adds a region and emits RegionAdded", async function () {
      await expect(this.trust.connect(this.admin).addRegion(440300, "深圳市"))
        .to.emit(this.trust, "RegionAdded")
        .withArgs(440300, "深圳市");
      expect(await this.trust.getRegion(440300)).to.deep.equal([true, "深圳市"]);
    });

    it("accepts the smallest and largest six-digit codes", async function () {
      await expect(this.trust.connect(this.admin).addRegion(100000, "min"))
        .to.emit(this.trust, "RegionAdded")
        .withArgs(100000, "min");
      await expect(this.trust.connect(this.admin).addRegion(999999, "max"))
        .to.emit(this.trust, "RegionAdded")
        .withArgs(999999, "max");
      expect(await this.trust.getRegion(100000)).to.deep.equal([true, "min"]);
      expect(await this.trust.getRegion(999999)).to.deep.equal([true, "max"]);
    });

    for (const code of [0, 99999, 1000000, 4294967295]) {
      it(`reverts for the invalid code ${code}`, async function () {
        await expect(this.trust.connect(this.admin).addRegion(code, "x"))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryInvalidRegionCode")
          .withArgs(code);
      });
    }

    it("reverts for an existing region", async function () {
      await expect(this.trust.connect(this.admin).addRegion(REGION, "again"))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryRegionExists")
        .withArgs(REGION);
      expect(await this.trust.getRegion(REGION)).to.deep.equal([true, REGION_NAME]);
    });

    shouldOnlyAllowFederationAdmin((ctx, caller) => ctx.trust.connect(caller).addRegion(440300, "深圳市"));
  });

  describe("addRegionAuthority", function () {
    it("adds an authority and emits RegionAuthorityAdded", async function () {
      await expect(this.trust.connect(this.admin).addRegionAuthority(REGION, this.stranger.address))
        .to.emit(this.trust, "RegionAuthorityAdded")
        .withArgs(REGION, this.stranger.address);
      expect(await this.trust.isRegionAuthority(REGION, this.stranger.address)).to.be.true;
      expect(await this.trust.isAuthorityOfIssuer(ISSUER_ID, this.stranger.address)).to.be.true;
      // the new authority has the powers of an authority
      await expect(this.trust.connect(this.stranger).setIssuerActive(ISSUER_ID, false))
        .to.emit(this.trust, "IssuerActiveSet")
        .withArgs(ISSUER_ID, false);
    });

    it("refuses a key of an issuer of the region, but not of another region", async function () {
      // `key` is a key of ISSUER_ID (region REGION); `otherKey` is a key of OTHER_ISSUER_ID (OTHER_REGION)
      await expect(this.trust.connect(this.admin).addRegionAuthority(REGION, this.key.address))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyIsAuthority")
        .withArgs(ISSUER_ID, this.key.address);
      expect(await this.trust.isRegionAuthority(REGION, this.key.address)).to.be.false;
      await expect(this.trust.connect(this.admin).addRegionAuthority(REGION, this.otherKey.address))
        .to.emit(this.trust, "RegionAuthorityAdded")
        .withArgs(REGION, this.otherKey.address);
    });

    it("lets an account be an authority of several regions", async function () {
      await expect(this.trust.connect(this.admin).addRegionAuthority(OTHER_REGION, this.authority.address))
        .to.emit(this.trust, "RegionAuthorityAdded")
        .withArgs(OTHER_REGION, this.authority.address);
      expect(await this.trust.isRegionAuthority(REGION, this.authority.address)).to.be.true;
      expect(await this.trust.isRegionAuthority(OTHER_REGION, this.authority.address)).to.be.true;
    });

    it("reverts for an unknown region", async function () {
      await expect(this.trust.connect(this.admin).addRegionAuthority(UNKNOWN_REGION, this.stranger.address))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryUnknownRegion")
        .withArgs(UNKNOWN_REGION);
    });

    it("reverts for the zero address", async function () {
      await expect(
        this.trust.connect(this.admin).addRegionAuthority(REGION, ethers.ZeroAddress),
      ).to.be.revertedWithCustomError(this.trust, "TrustRegistryZeroAddress");
    });

    it("reverts for an existing authority", async function () {
      await expect(this.trust.connect(this.admin).addRegionAuthority(REGION, this.authority.address))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryAuthorityExists")
        .withArgs(REGION, this.authority.address);
    });

    shouldOnlyAllowFederationAdmin((ctx, caller) =>
      ctx.trust.connect(caller).addRegionAuthority(REGION, ctx.accounts[0].address),
    );
  });

  describe("removeRegionAuthority", function () {
    it("removes an authority and emits RegionAuthorityRemoved", async function () {
      await expect(this.trust.connect(this.admin).removeRegionAuthority(REGION, this.authority.address))
        .to.emit(this.trust, "RegionAuthorityRemoved")
        .withArgs(REGION, this.authority.address);
      expect(await this.trust.isRegionAuthority(REGION, this.authority.address)).to.be.false;
      expect(await this.trust.isAuthorityOfIssuer(ISSUER_ID, this.authority.address)).to.be.false;
    });

    it("leaves the authority's other regions untouched", async function () {
      await this.trust.connect(this.admin).addRegionAuthority(OTHER_REGION, this.authority.address);
      await this.trust.connect(this.admin).removeRegionAuthority(REGION, this.authority.address);
      expect(await this.trust.isRegionAuthority(OTHER_REGION, this.authority.address)).to.be.true;
      expect(await this.trust.isAuthorityOfIssuer(OTHER_ISSUER_ID, this.authority.address)).to.be.true;
    });

    it("a removed authority loses its power over every function", async function () {
      const { trust, authority, admin, key, newKey } = this;
      await trust.connect(admin).removeRegionAuthority(REGION, authority.address);
      const asAuthority = trust.connect(authority);
      const notAuthority = ["TrustRegistryNotRegionAuthority", REGION, authority.address];
      const notIssuerOrAuthority = ["TrustRegistryNotIssuerOrAuthority", ISSUER_ID, authority.address];
      const now = BigInt(await time.latest());
      const cases = [
        [() => asAuthority.registerIssuer(NEW_ISSUER_ID, REGION, "x", ethers.ZeroHash, ""), notAuthority],
        [() => asAuthority.updateIssuerProfile(ISSUER_ID, "x", ethers.ZeroHash, ""), notAuthority],
        [() => asAuthority.setIssuerActive(ISSUER_ID, false), notAuthority],
        [() => asAuthority.permitLicenseType(ISSUER_ID, LICENSE_TYPE, now, OPEN_END), notAuthority],
        [() => asAuthority.declareKeyCompromised(ISSUER_ID, key.address, now), notAuthority],
        [() => asAuthority.addKey(ISSUER_ID, newKey.address, now, OPEN_END, accept(ISSUER_ID, newKey.address)), notAuthority],
        [() => asAuthority.rotateKey(ISSUER_ID, key.address, newKey.address, accept(ISSUER_ID, newKey.address)), notIssuerOrAuthority],
        [() => asAuthority.retireKey(ISSUER_ID, key.address), notIssuerOrAuthority],
      ];
      for (const [call, [error, ...args]] of cases) {
        await expect(call())
          .to.be.revertedWithCustomError(trust, error)
          .withArgs(...args);
      }
    });

    it("allows adding the authority again", async function () {
      await this.trust.connect(this.admin).removeRegionAuthority(REGION, this.authority.address);
      await expect(this.trust.connect(this.admin).addRegionAuthority(REGION, this.authority.address))
        .to.emit(this.trust, "RegionAuthorityAdded")
        .withArgs(REGION, this.authority.address);
      expect(await this.trust.isRegionAuthority(REGION, this.authority.address)).to.be.true;
    });

    it("reverts for an unknown region", async function () {
      await expect(this.trust.connect(this.admin).removeRegionAuthority(UNKNOWN_REGION, this.authority.address))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryUnknownRegion")
        .withArgs(UNKNOWN_REGION);
    });

    it("reverts for an account that is not an authority of the region", async function () {
      await expect(this.trust.connect(this.admin).removeRegionAuthority(REGION, this.otherAuthority.address))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotRegionAuthority")
        .withArgs(REGION, this.otherAuthority.address);
      await this.trust.connect(this.admin).removeRegionAuthority(REGION, this.authority.address);
      await expect(this.trust.connect(this.admin).removeRegionAuthority(REGION, this.authority.address))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotRegionAuthority")
        .withArgs(REGION, this.authority.address);
    });

    shouldOnlyAllowFederationAdmin((ctx, caller) =>
      ctx.trust.connect(caller).removeRegionAuthority(REGION, ctx.authority.address),
    );
  });
});
