// TrustRegistry: The federation admins' role (AccessControl).

const { expect } = require("chai");

const { REGION, deployFixture, loadFixtureNow } = require("../helpers");

describe("TrustRegistry", function () {
  beforeEach(async function () {
    Object.assign(this, await loadFixtureNow(deployFixture));
  });

  // ----------------------------------------------------------------------------------------------
  // FEDERATION_ADMIN_ROLE
  // ----------------------------------------------------------------------------------------------

  describe("grantRole / revokeRole of FEDERATION_ADMIN_ROLE", function () {
    it("the default admin grants the role, emitting RoleGranted", async function () {
      await expect(this.trust.connect(this.admin).grantRole(this.FEDERATION_ADMIN_ROLE, this.stranger.address))
        .to.emit(this.trust, "RoleGranted")
        .withArgs(this.FEDERATION_ADMIN_ROLE, this.stranger.address, this.admin.address);
      expect(await this.trust.hasRole(this.FEDERATION_ADMIN_ROLE, this.stranger.address)).to.be.true;
      await expect(this.trust.connect(this.stranger).addRegion(440300, "深圳市"))
        .to.emit(this.trust, "RegionAdded")
        .withArgs(440300, "深圳市");
      await expect(this.trust.connect(this.stranger).addRegionAuthority(440300, this.accounts[0].address))
        .to.emit(this.trust, "RegionAuthorityAdded")
        .withArgs(440300, this.accounts[0].address);
    });

    it("granting a role already held emits nothing", async function () {
      await expect(
        this.trust.connect(this.admin).grantRole(this.FEDERATION_ADMIN_ROLE, this.admin.address),
      ).not.to.emit(this.trust, "RoleGranted");
    });

    it("the default admin revokes the role, emitting RoleRevoked; the account loses its power", async function () {
      await this.trust.connect(this.admin).grantRole(this.FEDERATION_ADMIN_ROLE, this.stranger.address);
      await expect(this.trust.connect(this.admin).revokeRole(this.FEDERATION_ADMIN_ROLE, this.stranger.address))
        .to.emit(this.trust, "RoleRevoked")
        .withArgs(this.FEDERATION_ADMIN_ROLE, this.stranger.address, this.admin.address);
      expect(await this.trust.hasRole(this.FEDERATION_ADMIN_ROLE, this.stranger.address)).to.be.false;
      const asStranger = this.trust.connect(this.stranger);
      for (const call of [
        () => asStranger.addRegion(440300, "深圳市"),
        () => asStranger.addRegionAuthority(REGION, this.accounts[0].address),
        () => asStranger.removeRegionAuthority(REGION, this.authority.address),
      ]) {
        await expect(call())
          .to.be.revertedWithCustomError(this.trust, "AccessControlUnauthorizedAccount")
          .withArgs(this.stranger.address, this.FEDERATION_ADMIN_ROLE);
      }
    });

    it("the admin can revoke its own federation role and keep granting roles", async function () {
      await this.trust.connect(this.admin).revokeRole(this.FEDERATION_ADMIN_ROLE, this.admin.address);
      await expect(this.trust.connect(this.admin).addRegion(440300, "深圳市"))
        .to.be.revertedWithCustomError(this.trust, "AccessControlUnauthorizedAccount")
        .withArgs(this.admin.address, this.FEDERATION_ADMIN_ROLE);
      await this.trust.connect(this.admin).grantRole(this.FEDERATION_ADMIN_ROLE, this.admin.address);
      await expect(this.trust.connect(this.admin).addRegion(440300, "深圳市")).to.emit(this.trust, "RegionAdded");
    });

    it("a federation admin renounces its own role, emitting RoleRevoked", async function () {
      await this.trust.connect(this.admin).grantRole(this.FEDERATION_ADMIN_ROLE, this.stranger.address);
      await expect(
        this.trust.connect(this.stranger).renounceRole(this.FEDERATION_ADMIN_ROLE, this.admin.address),
      ).to.be.revertedWithCustomError(this.trust, "AccessControlBadConfirmation");
      await expect(this.trust.connect(this.stranger).renounceRole(this.FEDERATION_ADMIN_ROLE, this.stranger.address))
        .to.emit(this.trust, "RoleRevoked")
        .withArgs(this.FEDERATION_ADMIN_ROLE, this.stranger.address, this.stranger.address);
      expect(await this.trust.hasRole(this.FEDERATION_ADMIN_ROLE, this.stranger.address)).to.be.false;
    });

    for (const [who, description] of [
      ["stranger", "a stranger"],
      ["authority", "a region authority"],
      ["federationAdmin", "a federation admin without DEFAULT_ADMIN_ROLE"],
    ]) {
      it(`${description} can neither grant nor revoke the role`, async function () {
        let caller = this[who];
        if (who === "federationAdmin") {
          caller = this.accounts[0];
          await this.trust.connect(this.admin).grantRole(this.FEDERATION_ADMIN_ROLE, caller.address);
        }
        await expect(this.trust.connect(caller).grantRole(this.FEDERATION_ADMIN_ROLE, this.stranger.address))
          .to.be.revertedWithCustomError(this.trust, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, this.DEFAULT_ADMIN_ROLE);
        await expect(this.trust.connect(caller).revokeRole(this.FEDERATION_ADMIN_ROLE, this.admin.address))
          .to.be.revertedWithCustomError(this.trust, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, this.DEFAULT_ADMIN_ROLE);
        expect(await this.trust.hasRole(this.FEDERATION_ADMIN_ROLE, this.admin.address)).to.be.true;
      });
    }
  });
});
