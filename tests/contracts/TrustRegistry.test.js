const { ethers } = require("hardhat");
const { expect } = require("chai");
const { loadFixture, time, setBalance } = require("@nomicfoundation/hardhat-network-helpers");

const {
  OPEN_END,
  REGION,
  REGION_NAME,
  OTHER_REGION,
  ISSUER_ID,
  ISSUER_NAME,
  PROFILE_HASH,
  PROFILE_URI,
  OTHER_ISSUER_ID,
  LICENSE_TYPE,
  INVALID_KEY_KINDS,
  deployFixture,
  makeInvalidKey,
  nextTimestamp,
  txTimestamp,
  eventsOf,
  makeBatch,
  inOneBlock,
  outcomeOf,
  accept,
  acceptanceDigest,
  acceptanceDomain,
  KEY_ACCEPTANCE_TYPES,
  rememberKey,
  usccId,
  makeUscc,
  deployForwarder,
} = require("./helpers");

const UNKNOWN_ISSUER_ID = ethers.id("issuer:unknown");
const NEW_ISSUER_ID = usccId("11110000000012345H"); // another Beijing department (division 110000)
const UNKNOWN_REGION = 440300;

// ------------------------------------------------------------------------------------------------
// Shared behaviours
// ------------------------------------------------------------------------------------------------

/**
 * `send(ctx, caller, issuerId)` performs an action reserved to the authorities of the issuer's
 * region (it succeeds when `caller` is `ctx.authority` and `issuerId` is ISSUER_ID).
 */
function shouldOnlyAllowRegionAuthority(send) {
  describe("access (region authorities only)", function () {
    it("succeeds for an authority of the issuer's region", async function () {
      await expect(send(this, this.authority, ISSUER_ID)).not.to.be.reverted;
    });

    for (const who of ["stranger", "otherAuthority", "key", "admin"]) {
      it(`reverts for ${who === "key" ? "a valid key of the issuer" : who === "otherAuthority" ? "an authority of another region" : `the ${who}`}`, async function () {
        const caller = this[who];
        await expect(send(this, caller, ISSUER_ID))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotRegionAuthority")
          .withArgs(REGION, caller.address);
      });
    }

    it("reverts for a removed authority", async function () {
      await this.trust.connect(this.admin).removeRegionAuthority(REGION, this.authority.address);
      await expect(send(this, this.authority, ISSUER_ID))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotRegionAuthority")
        .withArgs(REGION, this.authority.address);
    });

    it("reverts for an unknown issuer", async function () {
      await expect(send(this, this.authority, UNKNOWN_ISSUER_ID))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryUnknownIssuer")
        .withArgs(UNKNOWN_ISSUER_ID);
    });
  });
}

/**
 * `send(ctx, caller, issuerId, key)` performs a key-management action on `key` open to the
 * authorities of the issuer's region and to `key` itself while it is valid now (it succeeds for
 * `ctx.authority`, and for `ctx.key` acting on itself, with ISSUER_ID and `key == ctx.key`).
 */
function shouldOnlyAllowKeyItselfOrAuthority(send) {
  describe("access (the key concerned itself while valid now, or a region authority)", function () {
    it("succeeds for an authority of the issuer's region", async function () {
      await expect(send(this, this.authority, ISSUER_ID, this.key)).not.to.be.reverted;
    });

    it("succeeds for the key itself, valid now", async function () {
      await expect(send(this, this.key, ISSUER_ID, this.key)).not.to.be.reverted;
    });

    it("reverts for another valid key of the same issuer, either way round", async function () {
      const now = BigInt(await time.latest());
      await this.trust.connect(this.authority).addKey(ISSUER_ID, this.spareKey.address, now, OPEN_END, accept(ISSUER_ID, this.spareKey.address));
      await expect(send(this, this.spareKey, ISSUER_ID, this.key))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotIssuerOrAuthority")
        .withArgs(ISSUER_ID, this.spareKey.address);
      await expect(send(this, this.key, ISSUER_ID, this.spareKey))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotIssuerOrAuthority")
        .withArgs(ISSUER_ID, this.key.address);
      expect(await this.trust.getKey(this.key.address)).to.deep.equal([ISSUER_ID, this.keyValidFrom, OPEN_END]);
      expect(await this.trust.getKey(this.spareKey.address)).to.deep.equal([ISSUER_ID, now, OPEN_END]);
    });

    const others = {
      stranger: "a stranger",
      otherKey: "a valid key of another issuer",
      otherAuthority: "an authority of another region",
      admin: "the federation admin",
    };
    for (const [who, description] of Object.entries(others)) {
      it(`reverts for ${description}`, async function () {
        const caller = this[who];
        await expect(send(this, caller, ISSUER_ID, this.key))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotIssuerOrAuthority")
          .withArgs(ISSUER_ID, caller.address);
      });
    }

    it("reverts for a caller acting on itself under an issuer it is not a key of", async function () {
      // a valid key of another issuer, named under ISSUER_ID
      await expect(send(this, this.otherKey, ISSUER_ID, this.otherKey))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotIssuerOrAuthority")
        .withArgs(ISSUER_ID, this.otherKey.address);
      // a valid key of ISSUER_ID, named under another issuer
      await expect(send(this, this.key, OTHER_ISSUER_ID, this.key))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotIssuerOrAuthority")
        .withArgs(OTHER_ISSUER_ID, this.key.address);
      // an account that is no key at all (access is checked before the key is looked up)
      await expect(send(this, this.stranger, ISSUER_ID, this.stranger))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotIssuerOrAuthority")
        .withArgs(ISSUER_ID, this.stranger.address);
    });

    for (const kind of INVALID_KEY_KINDS) {
      it(`reverts for the key itself when it is ${kind}, and for it acting on another key`, async function () {
        const caller = await makeInvalidKey(this, kind);
        const before = await this.trust.getKey(caller.address);
        await expect(send(this, caller, ISSUER_ID, caller))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotIssuerOrAuthority")
          .withArgs(ISSUER_ID, caller.address);
        await expect(send(this, caller, ISSUER_ID, this.key))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotIssuerOrAuthority")
          .withArgs(ISSUER_ID, caller.address);
        expect(await this.trust.getKey(caller.address)).to.deep.equal(before);
      });
    }

    it("reverts for a removed authority", async function () {
      await this.trust.connect(this.admin).removeRegionAuthority(REGION, this.authority.address);
      await expect(send(this, this.authority, ISSUER_ID, this.key))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotIssuerOrAuthority")
        .withArgs(ISSUER_ID, this.authority.address);
    });

    it("reverts for an unknown issuer, for an authority and for the key itself", async function () {
      for (const caller of [this.authority, this.key]) {
        await expect(send(this, caller, UNKNOWN_ISSUER_ID, this.key))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryUnknownIssuer")
          .withArgs(UNKNOWN_ISSUER_ID);
      }
    });
  });
}

/** `send(ctx, caller)` performs an action reserved to FEDERATION_ADMIN_ROLE. */
function shouldOnlyAllowFederationAdmin(send) {
  describe("access (federation admins only)", function () {
    for (const who of ["stranger", "authority", "key"]) {
      it(`reverts for ${who === "stranger" ? "a stranger" : who === "authority" ? "a region authority" : "an issuer key"}`, async function () {
        const caller = this[who];
        await expect(send(this, caller))
          .to.be.revertedWithCustomError(this.trust, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, this.FEDERATION_ADMIN_ROLE);
      });
    }

    it("succeeds for an account granted FEDERATION_ADMIN_ROLE", async function () {
      await this.trust.connect(this.admin).grantRole(this.FEDERATION_ADMIN_ROLE, this.stranger.address);
      await expect(send(this, this.stranger)).not.to.be.reverted;
    });
  });
}

// ------------------------------------------------------------------------------------------------

describe("TrustRegistry", function () {
  beforeEach(async function () {
    Object.assign(this, await loadFixture(deployFixture));
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

  // ----------------------------------------------------------------------------------------------
  // Issuers
  // ----------------------------------------------------------------------------------------------

  describe("registerIssuer", function () {
    const name = "北京市税务局";
    const profileHash = ethers.id("tax profile");
    const profileURI = "https://example.gov.cn/issuers/110000-tax.json";

    it("registers an active issuer and emits IssuerRegistered", async function () {
      await expect(
        this.trust.connect(this.authority).registerIssuer(NEW_ISSUER_ID, REGION, name, profileHash, profileURI),
      )
        .to.emit(this.trust, "IssuerRegistered")
        .withArgs(NEW_ISSUER_ID, REGION, name, profileHash, profileURI);
      expect(await this.trust.getIssuer(NEW_ISSUER_ID)).to.deep.equal([
        true,
        true,
        BigInt(REGION),
        profileHash,
        name,
        profileURI,
      ]);
      expect(await this.trust.getIssuerState(NEW_ISSUER_ID)).to.deep.equal([true, true, BigInt(REGION)]);
      expect(await this.trust.isAuthorityOfIssuer(NEW_ISSUER_ID, this.authority.address)).to.be.true;
    });

    it("reverts for the zero id", async function () {
      await expect(
        this.trust.connect(this.authority).registerIssuer(ethers.ZeroHash, REGION, name, profileHash, profileURI),
      ).to.be.revertedWithCustomError(this.trust, "TrustRegistryZeroId");
    });

    it("reverts for an unknown region", async function () {
      await expect(
        this.trust
          .connect(this.authority)
          .registerIssuer(NEW_ISSUER_ID, UNKNOWN_REGION, name, profileHash, profileURI),
      )
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryUnknownRegion")
        .withArgs(UNKNOWN_REGION);
    });

    for (const who of ["stranger", "otherAuthority", "key", "admin"]) {
      it(`reverts for a caller that is not an authority of the region (${who})`, async function () {
        await expect(
          this.trust.connect(this[who]).registerIssuer(NEW_ISSUER_ID, REGION, name, profileHash, profileURI),
        )
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotRegionAuthority")
          .withArgs(REGION, this[who].address);
      });
    }

    it("reverts for an existing issuer id, in its region (and outside the region in another)", async function () {
      await expect(
        this.trust.connect(this.authority).registerIssuer(ISSUER_ID, REGION, name, profileHash, profileURI),
      )
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryIssuerExists")
        .withArgs(ISSUER_ID);
      // in another region the code's division is checked first
      await expect(
        this.trust.connect(this.otherAuthority).registerIssuer(ISSUER_ID, OTHER_REGION, name, profileHash, profileURI),
      )
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryIssuerOutsideRegion")
        .withArgs(ISSUER_ID, REGION, OTHER_REGION);
      expect(await this.trust.getIssuer(ISSUER_ID)).to.deep.equal([
        true,
        true,
        BigInt(REGION),
        PROFILE_HASH,
        ISSUER_NAME,
        PROFILE_URI,
      ]);
    });
  });

  describe("registerIssuer: a credit code registers only in the region of its division", function () {
    const name = "某机关";
    const CITY = 110100; // 北京市市辖区, a prefecture-level code
    const COUNTY = 110105; // 北京市朝阳区
    const THIRD_REGION = 120000; // 天津市

    beforeEach(async function () {
      for (const [region, regionName] of [
        [CITY, "北京市市辖区"],
        [COUNTY, "北京市朝阳区"],
        [THIRD_REGION, "天津市"],
      ]) {
        await this.trust.connect(this.admin).addRegion(region, regionName);
        await this.trust.connect(this.admin).addRegionAuthority(region, this.authority.address);
      }
    });

    it("an authority of another region cannot register the department (Shanghai registering a Beijing code)", async function () {
      await expect(
        this.trust.connect(this.otherAuthority).registerIssuer(NEW_ISSUER_ID, OTHER_REGION, name, ethers.ZeroHash, ""),
      )
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryIssuerOutsideRegion")
        .withArgs(NEW_ISSUER_ID, REGION, OTHER_REGION);
      expect((await this.trust.getIssuer(NEW_ISSUER_ID)).exists).to.be.false;
      // the department's own region can still register it
      await expect(this.trust.connect(this.authority).registerIssuer(NEW_ISSUER_ID, REGION, name, ethers.ZeroHash, ""))
        .to.emit(this.trust, "IssuerRegistered")
        .withArgs(NEW_ISSUER_ID, REGION, name, ethers.ZeroHash, "");
    });

    it("a province matches on 2 digits, a prefecture-level city on 4, any other region on all 6", async function () {
      const cases = [
        // [division, region, registers]
        [110105, REGION, true],
        [110105, CITY, true],
        [110105, COUNTY, true],
        [110000, CITY, false],
        [110000, COUNTY, false],
        [110108, CITY, true],
        [110108, COUNTY, false],
        [120101, REGION, false],
        [110105, THIRD_REGION, false],
      ];
      for (const [i, [division, region, registers]] of cases.entries()) {
        const issuerId = usccId(makeUscc(division, `CAPE${String(i).padStart(5, "0")}`));
        expect(await this.trust.isDivisionInRegion(division, region)).to.equal(registers);
        const tx = this.trust.connect(this.authority).registerIssuer(issuerId, region, name, ethers.ZeroHash, "");
        if (registers) {
          await expect(tx).to.emit(this.trust, "IssuerRegistered");
        } else {
          await expect(tx)
            .to.be.revertedWithCustomError(this.trust, "TrustRegistryIssuerOutsideRegion")
            .withArgs(issuerId, division, region);
        }
      }
    });

    it("issuerDivision reads characters 3 to 8 of codes made in JS", async function () {
      expect(await this.trust.issuerDivision(ISSUER_ID)).to.equal(110000n);
      expect(await this.trust.issuerDivision(OTHER_ISSUER_ID)).to.equal(310000n);
      for (const division of [110000, 110105, 310101, 440300, 659001]) {
        for (const org of ["MA01ABCDE", "000000000", "YYYYYYYYY", "HJKLMNPQR"]) {
          expect(await this.trust.issuerDivision(usccId(makeUscc(division, org)))).to.equal(BigInt(division));
        }
      }
    });

    const malformed = {
      "the zero id (as TrustRegistryZeroId)": null,
      "a hash": ethers.id("issuer:110000:market-regulation"),
      "a wrong check character": usccId("11110000MB0195560U"),
      "lower-case letters": usccId("11110000mb0195560t"),
      "a letter outside the GB 32100 alphabet (I, O, S, V, Z)": usccId("11110000MB0195I60T"),
      "a letter in the division": usccId("1111A000MB0195560T"),
      "17 characters": usccId("11110000MB0195560"),
      "19 characters": usccId("11110000MB0195560T0"),
      "a non-zero byte after the code": "0x" + usccId("11110000MB0195560T").slice(2, 64) + "01",
      "the code right-aligned": ethers.zeroPadValue(ethers.toUtf8Bytes("11110000MB0195560T"), 32),
    };
    for (const [description, issuerId] of Object.entries(malformed)) {
      it(`refuses an id that is not a credit code: ${description}`, async function () {
        const tx = this.trust
          .connect(this.authority)
          .registerIssuer(issuerId ?? ethers.ZeroHash, REGION, name, ethers.ZeroHash, "");
        if (issuerId === null) {
          await expect(tx).to.be.revertedWithCustomError(this.trust, "TrustRegistryZeroId");
          return;
        }
        await expect(tx).to.be.revertedWithCustomError(this.trust, "TrustRegistryInvalidIssuerId").withArgs(issuerId);
        await expect(this.trust.issuerDivision(issuerId))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryInvalidIssuerId")
          .withArgs(issuerId);
      });
    }

    it("the form is checked before the region and the caller", async function () {
      const bad = usccId("11110000MB0195560U");
      await expect(this.trust.connect(this.stranger).registerIssuer(bad, UNKNOWN_REGION, name, ethers.ZeroHash, ""))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryInvalidIssuerId")
        .withArgs(bad);
    });

    describe("allowIssuerRegion (the federation's exception)", function () {
      it("lets the named region register the department, emitting IssuerRegionAllowed; no other region", async function () {
        await expect(this.trust.connect(this.admin).allowIssuerRegion(NEW_ISSUER_ID, OTHER_REGION))
          .to.emit(this.trust, "IssuerRegionAllowed")
          .withArgs(NEW_ISSUER_ID, OTHER_REGION);
        expect(await this.trust.getAllowedRegion(NEW_ISSUER_ID)).to.equal(BigInt(OTHER_REGION));
        await expect(
          this.trust.connect(this.authority).registerIssuer(NEW_ISSUER_ID, THIRD_REGION, name, ethers.ZeroHash, ""),
        )
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryIssuerOutsideRegion")
          .withArgs(NEW_ISSUER_ID, REGION, THIRD_REGION);
        await expect(
          this.trust.connect(this.otherAuthority).registerIssuer(NEW_ISSUER_ID, OTHER_REGION, name, ethers.ZeroHash, ""),
        )
          .to.emit(this.trust, "IssuerRegistered")
          .withArgs(NEW_ISSUER_ID, OTHER_REGION, name, ethers.ZeroHash, "");
        expect(await this.trust.isAuthorityOfIssuer(NEW_ISSUER_ID, this.otherAuthority.address)).to.be.true;
        expect(await this.trust.isAuthorityOfIssuer(NEW_ISSUER_ID, this.authority.address)).to.be.false;
      });

      it("leaves the code's own region able to register it", async function () {
        await this.trust.connect(this.admin).allowIssuerRegion(NEW_ISSUER_ID, OTHER_REGION);
        await expect(
          this.trust.connect(this.authority).registerIssuer(NEW_ISSUER_ID, REGION, name, ethers.ZeroHash, ""),
        ).to.emit(this.trust, "IssuerRegistered");
      });

      it("is withdrawn with region 0", async function () {
        await this.trust.connect(this.admin).allowIssuerRegion(NEW_ISSUER_ID, OTHER_REGION);
        await expect(this.trust.connect(this.admin).allowIssuerRegion(NEW_ISSUER_ID, 0))
          .to.emit(this.trust, "IssuerRegionAllowed")
          .withArgs(NEW_ISSUER_ID, 0);
        expect(await this.trust.getAllowedRegion(NEW_ISSUER_ID)).to.equal(0n);
        await expect(
          this.trust.connect(this.otherAuthority).registerIssuer(NEW_ISSUER_ID, OTHER_REGION, name, ethers.ZeroHash, ""),
        )
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryIssuerOutsideRegion")
          .withArgs(NEW_ISSUER_ID, REGION, OTHER_REGION);
      });

      it("reverts for a malformed id, the zero id, an unknown region and a registered issuer", async function () {
        const asAdmin = this.trust.connect(this.admin);
        const bad = usccId("11110000MB0195560U");
        await expect(asAdmin.allowIssuerRegion(bad, OTHER_REGION))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryInvalidIssuerId")
          .withArgs(bad);
        await expect(asAdmin.allowIssuerRegion(ethers.ZeroHash, OTHER_REGION)).to.be.revertedWithCustomError(
          this.trust,
          "TrustRegistryZeroId",
        );
        await expect(asAdmin.allowIssuerRegion(NEW_ISSUER_ID, UNKNOWN_REGION))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryUnknownRegion")
          .withArgs(UNKNOWN_REGION);
        await expect(asAdmin.allowIssuerRegion(ISSUER_ID, OTHER_REGION))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryIssuerExists")
          .withArgs(ISSUER_ID);
      });

      it("reverts for an authority of the region that would gain the department", async function () {
        await expect(this.trust.connect(this.otherAuthority).allowIssuerRegion(NEW_ISSUER_ID, OTHER_REGION))
          .to.be.revertedWithCustomError(this.trust, "AccessControlUnauthorizedAccount")
          .withArgs(this.otherAuthority.address, this.FEDERATION_ADMIN_ROLE);
      });

      shouldOnlyAllowFederationAdmin((ctx, caller) => ctx.trust.connect(caller).allowIssuerRegion(NEW_ISSUER_ID, OTHER_REGION));
    });
  });

  describe("updateIssuerProfile", function () {
    const name = "北京市市场监督管理局（新）";
    const profileHash = ethers.id("profile v2");
    const profileURI = "https://example.gov.cn/issuers/110000-amr-v2.json";

    it("replaces the profile and emits IssuerProfileUpdated", async function () {
      await expect(this.trust.connect(this.authority).updateIssuerProfile(ISSUER_ID, name, profileHash, profileURI))
        .to.emit(this.trust, "IssuerProfileUpdated")
        .withArgs(ISSUER_ID, name, profileHash, profileURI);
      expect(await this.trust.getIssuer(ISSUER_ID)).to.deep.equal([
        true,
        true,
        BigInt(REGION),
        profileHash,
        name,
        profileURI,
      ]);
    });

    it("keeps the active flag and the region", async function () {
      await this.trust.connect(this.authority).setIssuerActive(ISSUER_ID, false);
      await this.trust.connect(this.authority).updateIssuerProfile(ISSUER_ID, name, profileHash, profileURI);
      expect(await this.trust.getIssuerState(ISSUER_ID)).to.deep.equal([true, false, BigInt(REGION)]);
    });

    shouldOnlyAllowRegionAuthority((ctx, caller, issuerId) =>
      ctx.trust.connect(caller).updateIssuerProfile(issuerId, name, profileHash, profileURI),
    );
  });

  describe("setIssuerActive", function () {
    it("deactivates and reactivates, emitting IssuerActiveSet", async function () {
      await expect(this.trust.connect(this.authority).setIssuerActive(ISSUER_ID, false))
        .to.emit(this.trust, "IssuerActiveSet")
        .withArgs(ISSUER_ID, false);
      expect(await this.trust.getIssuerState(ISSUER_ID)).to.deep.equal([true, false, BigInt(REGION)]);
      expect((await this.trust.getIssuer(ISSUER_ID)).active).to.be.false;

      await expect(this.trust.connect(this.authority).setIssuerActive(ISSUER_ID, true))
        .to.emit(this.trust, "IssuerActiveSet")
        .withArgs(ISSUER_ID, true);
      expect(await this.trust.getIssuerState(ISSUER_ID)).to.deep.equal([true, true, BigInt(REGION)]);
    });

    it("does not affect the issuer's keys", async function () {
      await this.trust.connect(this.authority).setIssuerActive(ISSUER_ID, false);
      const now = BigInt(await time.latest());
      expect(await this.trust.isKeyValid(ISSUER_ID, this.key.address, now)).to.be.true;
    });

    shouldOnlyAllowRegionAuthority((ctx, caller, issuerId) => ctx.trust.connect(caller).setIssuerActive(issuerId, false));
  });

  // ----------------------------------------------------------------------------------------------
  // Keys
  // ----------------------------------------------------------------------------------------------

  describe("addKey", function () {
    it("adds a key with its window and emits KeyAdded", async function () {
      const from = BigInt(await time.latest()) + 100n;
      const until = from + 1000n;
      await expect(this.trust.connect(this.authority).addKey(ISSUER_ID, this.newKey.address, from, until, accept(ISSUER_ID, this.newKey.address)))
        .to.emit(this.trust, "KeyAdded")
        .withArgs(ISSUER_ID, this.newKey.address, from, until);
      expect(await this.trust.getKey(this.newKey.address)).to.deep.equal([ISSUER_ID, from, until]);
    });

    it("no key of the issuer may add a key: not the fixture's key, nor one added by rotation", async function () {
      const from = BigInt(await time.latest());
      await expect(this.trust.connect(this.key).addKey(ISSUER_ID, this.spareKey.address, from, OPEN_END, accept(ISSUER_ID, this.spareKey.address)))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotRegionAuthority")
        .withArgs(REGION, this.key.address);
      await this.trust.connect(this.key).rotateKey(ISSUER_ID, this.key.address, this.newKey.address, accept(ISSUER_ID, this.newKey.address));
      await expect(this.trust.connect(this.newKey).addKey(ISSUER_ID, this.spareKey.address, from, OPEN_END, accept(ISSUER_ID, this.spareKey.address)))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotRegionAuthority")
        .withArgs(REGION, this.newKey.address);
      expect(await this.trust.getKey(this.spareKey.address)).to.deep.equal([ethers.ZeroHash, 0n, 0n]);
    });

    it("a key is valid at exactly validFrom and invalid at exactly validUntil", async function () {
      const from = BigInt(await time.latest()) + 100n;
      const until = from + 50n;
      const [a, b, c] = [this.newKey, this.spareKey, this.accounts[0]];
      for (const k of [a, b, c]) await this.trust.connect(this.authority).addKey(ISSUER_ID, k.address, from, until, accept(ISSUER_ID, k.address));
      expect(await this.trust.isKeyValid(ISSUER_ID, a.address, from - 1n)).to.be.false;
      expect(await this.trust.isKeyValid(ISSUER_ID, a.address, from)).to.be.true;
      expect(await this.trust.isKeyValid(ISSUER_ID, a.address, until - 1n)).to.be.true;
      expect(await this.trust.isKeyValid(ISSUER_ID, a.address, until)).to.be.false;

      // and it acts accordingly on chain (a key may retire itself while valid): not one second
      // before validFrom ...
      await time.setNextBlockTimestamp(from - 1n);
      await expect(this.trust.connect(a).retireKey(ISSUER_ID, a.address))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotIssuerOrAuthority")
        .withArgs(ISSUER_ID, a.address);
      // ... at exactly validFrom (its window shrinks to that one second) ...
      await time.setNextBlockTimestamp(from);
      await expect(this.trust.connect(a).retireKey(ISSUER_ID, a.address))
        .to.emit(this.trust, "KeyRetired")
        .withArgs(ISSUER_ID, a.address, from + 1n);
      expect(await this.trust.getKey(a.address)).to.deep.equal([ISSUER_ID, from, from + 1n]);
      expect(await this.trust.isKeyValid(ISSUER_ID, a.address, from)).to.be.true;
      expect(await this.trust.isKeyValid(ISSUER_ID, a.address, from + 1n)).to.be.false;
      // ... up to validUntil - 1 (the window then ends where it ended: after that second) ...
      await time.setNextBlockTimestamp(until - 1n);
      await expect(this.trust.connect(b).retireKey(ISSUER_ID, b.address))
        .to.emit(this.trust, "KeyRetired")
        .withArgs(ISSUER_ID, b.address, until);
      expect(await this.trust.getKey(b.address)).to.deep.equal([ISSUER_ID, from, until]);
      // ... but not at validUntil
      await time.setNextBlockTimestamp(until);
      await expect(this.trust.connect(c).retireKey(ISSUER_ID, c.address))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotIssuerOrAuthority")
        .withArgs(ISSUER_ID, c.address);
      expect(await this.trust.getKey(c.address)).to.deep.equal([ISSUER_ID, from, until]);
    });

    it("reverts for the zero key", async function () {
      const from = BigInt(await time.latest());
      await expect(
        this.trust.connect(this.authority).addKey(ISSUER_ID, ethers.ZeroAddress, from, OPEN_END, accept(ISSUER_ID, ethers.ZeroAddress)),
      ).to.be.revertedWithCustomError(this.trust, "TrustRegistryZeroAddress");
    });

    describe("an authority of the issuer's region cannot be a key of it", function () {
      it("reverts with TrustRegistryKeyIsAuthority for an authority of the issuer's region, the caller or another", async function () {
        const from = BigInt(await time.latest());
        const second = this.accounts[0];
        await this.trust.connect(this.admin).addRegionAuthority(REGION, second.address);
        for (const account of [this.authority, second]) {
          await expect(this.trust.connect(this.authority).addKey(ISSUER_ID, account.address, from, OPEN_END, accept(ISSUER_ID, account.address)))
            .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyIsAuthority")
            .withArgs(ISSUER_ID, account.address);
          await expect(this.trust.connect(second).addKey(ISSUER_ID, account.address, from, OPEN_END, accept(ISSUER_ID, account.address)))
            .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyIsAuthority")
            .withArgs(ISSUER_ID, account.address);
          expect(await this.trust.getKey(account.address)).to.deep.equal([ethers.ZeroHash, 0n, 0n]);
        }
      });

      it("is checked after the zero address and before the key's owner and the window", async function () {
        const from = BigInt(await time.latest());
        const asAuthority = this.trust.connect(this.authority);
        // the zero address first (it can be no authority anyway)
        await expect(asAuthority.addKey(ISSUER_ID, ethers.ZeroAddress, from, from, accept(ISSUER_ID, ethers.ZeroAddress))).to.be.revertedWithCustomError(
          this.trust,
          "TrustRegistryZeroAddress",
        );
        // an authority with an empty window: TrustRegistryKeyIsAuthority, not TrustRegistryInvalidWindow
        await expect(asAuthority.addKey(ISSUER_ID, this.authority.address, from, from, accept(ISSUER_ID, this.authority.address)))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyIsAuthority")
          .withArgs(ISSUER_ID, this.authority.address);
        // an authority of the region that is a key already (of an issuer of another region: a key of
        // this region's issuers cannot become an authority of it): TrustRegistryKeyIsAuthority, not
        // TrustRegistryKeyInUse
        await this.trust.connect(this.admin).addRegionAuthority(REGION, this.otherKey.address);
        for (const account of [this.otherKey]) {
          await expect(asAuthority.addKey(ISSUER_ID, account.address, from, OPEN_END, accept(ISSUER_ID, account.address)))
            .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyIsAuthority")
            .withArgs(ISSUER_ID, account.address);
        }
        expect(await this.trust.getKey(this.otherKey.address)).to.deep.equal([
          OTHER_ISSUER_ID,
          this.otherKeyValidFrom,
          OPEN_END,
        ]);
      });

      it("an authority of another region can be a key (and then acts on itself as a key)", async function () {
        const from = BigInt(await time.latest());
        const other = this.otherAuthority;
        await expect(this.trust.connect(this.authority).addKey(ISSUER_ID, other.address, from, OPEN_END, accept(ISSUER_ID, other.address)))
          .to.emit(this.trust, "KeyAdded")
          .withArgs(ISSUER_ID, other.address, from, OPEN_END);
        expect(await this.trust.getKey(other.address)).to.deep.equal([ISSUER_ID, from, OPEN_END]);
        expect(await this.trust.isRegionAuthority(OTHER_REGION, other.address)).to.be.true;
        expect(await this.trust.isAuthorityOfIssuer(ISSUER_ID, other.address)).to.be.false;
        // and the other way round: an authority of REGION as a key of the issuer of OTHER_REGION
        await expect(this.trust.connect(other).addKey(OTHER_ISSUER_ID, this.authority.address, from, OPEN_END, accept(OTHER_ISSUER_ID, this.authority.address)))
          .to.emit(this.trust, "KeyAdded")
          .withArgs(OTHER_ISSUER_ID, this.authority.address, from, OPEN_END);
        // as a key of ISSUER_ID it rotates itself (bySelf: it is no authority of REGION)
        await expect(this.trust.connect(other).rotateKey(ISSUER_ID, other.address, this.newKey.address, accept(ISSUER_ID, this.newKey.address)))
          .to.emit(this.trust, "KeyRotated")
          .withArgs(ISSUER_ID, other.address, this.newKey.address, true);
      });

      it("a former authority of the region can be a key", async function () {
        const from = BigInt(await time.latest());
        const second = this.accounts[0];
        await this.trust.connect(this.admin).addRegionAuthority(REGION, second.address);
        await this.trust.connect(this.admin).removeRegionAuthority(REGION, this.authority.address);
        await expect(this.trust.connect(second).addKey(ISSUER_ID, this.authority.address, from, OPEN_END, accept(ISSUER_ID, this.authority.address)))
          .to.emit(this.trust, "KeyAdded")
          .withArgs(ISSUER_ID, this.authority.address, from, OPEN_END);
      });
    });

    it("reverts for a key of another issuer", async function () {
      const from = BigInt(await time.latest());
      await expect(this.trust.connect(this.authority).addKey(ISSUER_ID, this.otherKey.address, from, OPEN_END, accept(ISSUER_ID, this.otherKey.address)))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyInUse")
        .withArgs(this.otherKey.address, OTHER_ISSUER_ID);
      expect(await this.trust.getKey(this.otherKey.address)).to.deep.equal([
        OTHER_ISSUER_ID,
        this.otherKeyValidFrom,
        OPEN_END,
      ]);
    });

    it("reverts for a key of the same issuer, even retired (keys are never reused)", async function () {
      const from = BigInt(await time.latest());
      await expect(this.trust.connect(this.authority).addKey(ISSUER_ID, this.key.address, from, OPEN_END, accept(ISSUER_ID, this.key.address)))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyInUse")
        .withArgs(this.key.address, ISSUER_ID);
      await this.trust.connect(this.authority).retireKey(ISSUER_ID, this.key.address);
      await expect(this.trust.connect(this.authority).addKey(ISSUER_ID, this.key.address, from, OPEN_END, accept(ISSUER_ID, this.key.address)))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyInUse")
        .withArgs(this.key.address, ISSUER_ID);
    });

    it("reverts for an empty window", async function () {
      const from = BigInt(await time.latest());
      await expect(this.trust.connect(this.authority).addKey(ISSUER_ID, this.newKey.address, from, from, accept(ISSUER_ID, this.newKey.address)))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryInvalidWindow")
        .withArgs(from, from);
      await expect(this.trust.connect(this.authority).addKey(ISSUER_ID, this.newKey.address, from + 1n, from, accept(ISSUER_ID, this.newKey.address)))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryInvalidWindow")
        .withArgs(from + 1n, from);
      await expect(this.trust.connect(this.authority).addKey(ISSUER_ID, this.newKey.address, OPEN_END, OPEN_END, accept(ISSUER_ID, this.newKey.address)))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryInvalidWindow")
        .withArgs(OPEN_END, OPEN_END);
    });

    shouldOnlyAllowRegionAuthority(async (ctx, caller, issuerId) =>
      ctx.trust.connect(caller).addKey(issuerId, ctx.newKey.address, BigInt(await time.latest()), OPEN_END, accept(issuerId, ctx.newKey.address)),
    );
  });

  describe("rotateKey", function () {
    for (const who of ["authority", "key"]) {
      it(`ends the old window after the block's second and adds the new key from that second on (${who})`, async function () {
        const ts = await nextTimestamp(10n);
        const tx = this.trust.connect(this[who]).rotateKey(ISSUER_ID, this.key.address, this.newKey.address, accept(ISSUER_ID, this.newKey.address));
        await expect(tx).to.emit(this.trust, "KeyRetired").withArgs(ISSUER_ID, this.key.address, ts + 1n);
        await expect(tx).to.emit(this.trust, "KeyAdded").withArgs(ISSUER_ID, this.newKey.address, ts, OPEN_END);
        const bySelf = who === "key";
        await expect(tx)
          .to.emit(this.trust, "KeyRotated")
          .withArgs(ISSUER_ID, this.key.address, this.newKey.address, bySelf);
        expect(await eventsOf(this.trust, tx)).to.deep.equal([
          ["KeyRetired", ISSUER_ID, this.key.address, ts + 1n],
          ["KeyAdded", ISSUER_ID, this.newKey.address, ts, OPEN_END],
          ["KeyRotated", ISSUER_ID, this.key.address, this.newKey.address, bySelf],
        ]);
        expect(await txTimestamp(await tx)).to.equal(ts);
        // the old key is closed and names its successor; the new key is neither rotated nor closed
        expect(await this.trust.getRotation(this.key.address)).to.deep.equal([this.newKey.address, bySelf, true]);
        expect(await this.trust.getRotation(this.newKey.address)).to.deep.equal([ethers.ZeroAddress, false, false]);

        expect(await this.trust.getKey(this.key.address)).to.deep.equal([ISSUER_ID, this.keyValidFrom, ts + 1n]);
        expect(await this.trust.getKey(this.newKey.address)).to.deep.equal([ISSUER_ID, ts, OPEN_END]);
        // the old key is valid through the second of the rotation, the new one from it: both at ts
        expect(await this.trust.isKeyValid(ISSUER_ID, this.key.address, ts - 1n)).to.be.true;
        expect(await this.trust.isKeyValid(ISSUER_ID, this.key.address, ts)).to.be.true;
        expect(await this.trust.isKeyValid(ISSUER_ID, this.key.address, ts + 1n)).to.be.false;
        expect(await this.trust.isKeyValid(ISSUER_ID, this.newKey.address, ts - 1n)).to.be.false;
        expect(await this.trust.isKeyValid(ISSUER_ID, this.newKey.address, ts)).to.be.true;
        expect(await this.trust.isKeyValid(ISSUER_ID, this.newKey.address, ts + 1n)).to.be.true;
        expect(await this.trust.isKeyValid(ISSUER_ID, this.newKey.address, OPEN_END - 1n)).to.be.true;
      });
    }

    it("the old key loses its power after that second and the new key gains power over itself only", async function () {
      await this.trust.connect(this.key).rotateKey(ISSUER_ID, this.key.address, this.newKey.address, accept(ISSUER_ID, this.newKey.address));
      await expect(this.trust.connect(this.key).rotateKey(ISSUER_ID, this.key.address, this.spareKey.address, accept(ISSUER_ID, this.spareKey.address)))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotIssuerOrAuthority")
        .withArgs(ISSUER_ID, this.key.address);
      await expect(this.trust.connect(this.key).retireKey(ISSUER_ID, this.key.address))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotIssuerOrAuthority")
        .withArgs(ISSUER_ID, this.key.address);
      // the new key has no power over the key it replaced
      await expect(this.trust.connect(this.newKey).retireKey(ISSUER_ID, this.key.address))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotIssuerOrAuthority")
        .withArgs(ISSUER_ID, this.newKey.address);
      // ... but rotates itself in turn
      const ts = await nextTimestamp();
      const tx = this.trust.connect(this.newKey).rotateKey(ISSUER_ID, this.newKey.address, this.spareKey.address, accept(ISSUER_ID, this.spareKey.address));
      await expect(tx)
        .to.emit(this.trust, "KeyRotated")
        .withArgs(ISSUER_ID, this.newKey.address, this.spareKey.address, true);
      expect(await eventsOf(this.trust, tx)).to.deep.equal([
        ["KeyRetired", ISSUER_ID, this.newKey.address, ts + 1n],
        ["KeyAdded", ISSUER_ID, this.spareKey.address, ts, OPEN_END],
        ["KeyRotated", ISSUER_ID, this.newKey.address, this.spareKey.address, true],
      ]);
      expect(await this.trust.getRotation(this.key.address)).to.deep.equal([this.newKey.address, true, true]);
      expect(await this.trust.getRotation(this.newKey.address)).to.deep.equal([this.spareKey.address, true, true]);
    });

    for (const who of ["authority", "the key itself"]) {
      it(`rotates a key with a finite window before its end (${who})`, async function () {
        const from = await nextTimestamp(); // pinned: unpinned blocks follow the wall clock after a snapshot's restore
        await this.trust.connect(this.authority).addKey(ISSUER_ID, this.spareKey.address, from, from + 100n, accept(ISSUER_ID, this.spareKey.address));
        const caller = who === "authority" ? this.authority : this.spareKey;
        const ts = await nextTimestamp(50n);
        const tx = this.trust.connect(caller).rotateKey(ISSUER_ID, this.spareKey.address, this.newKey.address, accept(ISSUER_ID, this.newKey.address));
        await expect(tx).to.emit(this.trust, "KeyRetired").withArgs(ISSUER_ID, this.spareKey.address, ts + 1n);
        // the new key is open-ended, whatever the end of the old one
        await expect(tx).to.emit(this.trust, "KeyAdded").withArgs(ISSUER_ID, this.newKey.address, ts, OPEN_END);
        const bySelf = who !== "authority";
        await expect(tx)
          .to.emit(this.trust, "KeyRotated")
          .withArgs(ISSUER_ID, this.spareKey.address, this.newKey.address, bySelf);
        expect(await eventsOf(this.trust, tx)).to.deep.equal([
          ["KeyRetired", ISSUER_ID, this.spareKey.address, ts + 1n],
          ["KeyAdded", ISSUER_ID, this.newKey.address, ts, OPEN_END],
          ["KeyRotated", ISSUER_ID, this.spareKey.address, this.newKey.address, bySelf],
        ]);
        expect(await this.trust.getRotation(this.spareKey.address)).to.deep.equal([this.newKey.address, bySelf, true]);
        expect(await this.trust.getKey(this.spareKey.address)).to.deep.equal([ISSUER_ID, from, ts + 1n]);
        expect(await this.trust.getKey(this.newKey.address)).to.deep.equal([ISSUER_ID, ts, OPEN_END]);
      });
    }

    it("rotates a finite window in its last second, whose end then stays where it was", async function () {
      const from = BigInt(await time.latest());
      const until = from + 100n;
      await this.trust.connect(this.authority).addKey(ISSUER_ID, this.spareKey.address, from, until, accept(ISSUER_ID, this.spareKey.address));
      await time.setNextBlockTimestamp(until - 1n);
      const tx = this.trust.connect(this.spareKey).rotateKey(ISSUER_ID, this.spareKey.address, this.newKey.address, accept(ISSUER_ID, this.newKey.address));
      expect(await eventsOf(this.trust, tx)).to.deep.equal([
        ["KeyRetired", ISSUER_ID, this.spareKey.address, until],
        ["KeyAdded", ISSUER_ID, this.newKey.address, until - 1n, OPEN_END],
        ["KeyRotated", ISSUER_ID, this.spareKey.address, this.newKey.address, true],
      ]);
      await expect(tx)
        .to.emit(this.trust, "KeyRotated")
        .withArgs(ISSUER_ID, this.spareKey.address, this.newKey.address, true);
      expect(await this.trust.getKey(this.spareKey.address)).to.deep.equal([ISSUER_ID, from, until]);
    });

    describe("a key is rotated at most once", function () {
      const CALLERS = { key: "the key itself", authority: "an authority" };
      for (const [first, firstName] of Object.entries(CALLERS)) {
        for (const [second, secondName] of Object.entries(CALLERS)) {
          it(`${firstName} rotates it, then ${secondName} again in the same block (its window not ended): TrustRegistryKeyClosed`, async function () {
            const { trust, key, newKey, spareKey } = this;
            const t = await nextTimestamp(10n);
            const { responses, receipts, timestamp } = await inOneBlock([
              (o) => trust.connect(this[first]).rotateKey(ISSUER_ID, key.address, newKey.address, accept(ISSUER_ID, newKey.address), o),
              (o) => trust.connect(this[second]).rotateKey(ISSUER_ID, key.address, spareKey.address, accept(ISSUER_ID, spareKey.address), o),
            ]);
            expect(timestamp).to.equal(t);
            expect(receipts.map((r) => r.status)).to.deep.equal([1, 0]);
            const bySelf = first === "key";
            await expect(outcomeOf(responses[0]))
              .to.emit(trust, "KeyRetired")
              .withArgs(ISSUER_ID, key.address, t + 1n);
            await expect(outcomeOf(responses[0]))
              .to.emit(trust, "KeyRotated")
              .withArgs(ISSUER_ID, key.address, newKey.address, bySelf);
            expect(await eventsOf(trust, responses[0])).to.deep.equal([
              ["KeyRetired", ISSUER_ID, key.address, t + 1n],
              ["KeyAdded", ISSUER_ID, newKey.address, t, OPEN_END],
              ["KeyRotated", ISSUER_ID, key.address, newKey.address, bySelf],
            ]);
            // the key is still valid at t, yet cannot be rotated a second time: it is closed
            expect(await trust.isKeyValid(ISSUER_ID, key.address, t)).to.be.true;
            await expect(outcomeOf(responses[1]))
              .to.be.revertedWithCustomError(trust, "TrustRegistryKeyClosed")
              .withArgs(ISSUER_ID, key.address);
            expect(receipts[1].logs).to.have.lengthOf(0);
            expect(await trust.getKey(key.address)).to.deep.equal([ISSUER_ID, this.keyValidFrom, t + 1n]);
            expect(await trust.getKey(newKey.address)).to.deep.equal([ISSUER_ID, t, OPEN_END]);
            expect(await trust.getKey(spareKey.address)).to.deep.equal([ethers.ZeroHash, 0n, 0n]);
            // the first rotation is the one recorded
            expect(await trust.getRotation(key.address)).to.deep.equal([newKey.address, bySelf, true]);
          });
        }
      }

      it("the thief's case: a stolen key rotated to A cannot be rotated again to B in the same block", async function () {
        const { trust, registry, key } = this;
        const [a, b] = [this.newKey, this.spareKey];
        const t = await nextTimestamp(10n);
        const { responses, receipts } = await inOneBlock([
          (o) => trust.connect(key).rotateKey(ISSUER_ID, key.address, a.address, accept(ISSUER_ID, a.address), o),
          (o) => trust.connect(key).rotateKey(ISSUER_ID, key.address, b.address, accept(ISSUER_ID, b.address), o),
        ]);
        expect(receipts.map((r) => r.status)).to.deep.equal([1, 0]);
        await expect(outcomeOf(responses[0])).not.to.be.reverted;
        expect(await eventsOf(trust, responses[0])).to.deep.equal([
          ["KeyRetired", ISSUER_ID, key.address, t + 1n],
          ["KeyAdded", ISSUER_ID, a.address, t, OPEN_END],
          ["KeyRotated", ISSUER_ID, key.address, a.address, true],
        ]);
        await expect(outcomeOf(responses[1]))
          .to.be.revertedWithCustomError(trust, "TrustRegistryKeyClosed")
          .withArgs(ISSUER_ID, key.address);
        // B is no key: it can neither anchor nor rotate itself
        expect(await trust.getKey(b.address)).to.deep.equal([ethers.ZeroHash, 0n, 0n]);
        const batch = makeBatch(2, "thief B");
        await expect(registry.connect(b).anchor(batch.root, batch.digests))
          .to.be.revertedWithCustomError(registry, "LicenseRegistryUnknownKey")
          .withArgs(b.address);
        // the key has one successor only: A, valid from t on
        expect(await trust.getKey(a.address)).to.deep.equal([ISSUER_ID, t, OPEN_END]);
        expect(await trust.getRotation(key.address)).to.deep.equal([a.address, true, true]);
      });

      it("an authority cannot rotate a rotated key after its window has ended either: closed is checked first", async function () {
        await this.trust.connect(this.key).rotateKey(ISSUER_ID, this.key.address, this.newKey.address, accept(ISSUER_ID, this.newKey.address));
        const ts = await nextTimestamp();
        // closed AND its window has ended: TrustRegistryKeyClosed, not TrustRegistryKeyNotValid
        expect(await this.trust.isKeyValid(ISSUER_ID, this.key.address, ts)).to.be.false;
        await expect(this.trust.connect(this.authority).rotateKey(ISSUER_ID, this.key.address, this.spareKey.address, accept(ISSUER_ID, this.spareKey.address)))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyClosed")
          .withArgs(ISSUER_ID, this.key.address);
        expect(await this.trust.getRotation(this.key.address)).to.deep.equal([this.newKey.address, true, true]);
      });
    });

    describe("a retired key is closed: it cannot be rotated, even within its last second", function () {
      const CALLERS = { key: "the key itself", authority: "an authority" };
      for (const [first, firstName] of Object.entries(CALLERS)) {
        for (const [second, secondName] of Object.entries(CALLERS)) {
          it(`${firstName} retires it, then ${secondName} rotates it in the same block: TrustRegistryKeyClosed`, async function () {
            const { trust, key, newKey } = this;
            const t = await nextTimestamp(10n);
            const { responses, receipts, timestamp } = await inOneBlock([
              (o) => trust.connect(this[first]).retireKey(ISSUER_ID, key.address, o),
              (o) => trust.connect(this[second]).rotateKey(ISSUER_ID, key.address, newKey.address, accept(ISSUER_ID, newKey.address), o),
            ]);
            expect(timestamp).to.equal(t);
            expect(receipts.map((r) => r.status)).to.deep.equal([1, 0]);
            await expect(outcomeOf(responses[0]))
              .to.emit(trust, "KeyRetired")
              .withArgs(ISSUER_ID, key.address, t + 1n);
            expect(await eventsOf(trust, responses[0])).to.deep.equal([["KeyRetired", ISSUER_ID, key.address, t + 1n]]);
            // the key is still valid at t (the window ends at t + 1), yet the rotation is refused
            expect(await trust.isKeyValid(ISSUER_ID, key.address, t)).to.be.true;
            await expect(outcomeOf(responses[1]))
              .to.be.revertedWithCustomError(trust, "TrustRegistryKeyClosed")
              .withArgs(ISSUER_ID, key.address);
            expect(receipts[1].logs).to.have.lengthOf(0);
            expect(await trust.getKey(key.address)).to.deep.equal([ISSUER_ID, this.keyValidFrom, t + 1n]);
            expect(await trust.getKey(newKey.address)).to.deep.equal([ethers.ZeroHash, 0n, 0n]);
            expect(await trust.getRotation(key.address)).to.deep.equal([ethers.ZeroAddress, false, true]);
          });
        }
      }

      it("the thief's case: an authority retires a stolen key, the thief's self-rotation later in that block fails", async function () {
        const { trust, registry, authority, key } = this;
        const thief = this.spareKey;
        const t = await nextTimestamp(10n);
        const { responses, receipts } = await inOneBlock([
          (o) => trust.connect(authority).retireKey(ISSUER_ID, key.address, o),
          (o) => trust.connect(key).rotateKey(ISSUER_ID, key.address, thief.address, accept(ISSUER_ID, thief.address), o),
        ]);
        expect(receipts.map((r) => r.status)).to.deep.equal([1, 0]);
        await expect(outcomeOf(responses[0]))
          .to.emit(trust, "KeyRetired")
          .withArgs(ISSUER_ID, key.address, t + 1n);
        await expect(outcomeOf(responses[1]))
          .to.be.revertedWithCustomError(trust, "TrustRegistryKeyClosed")
          .withArgs(ISSUER_ID, key.address);
        expect(receipts[1].logs).to.have.lengthOf(0);
        // the thief's key is no key: it can neither anchor nor act
        expect(await trust.getKey(thief.address)).to.deep.equal([ethers.ZeroHash, 0n, 0n]);
        expect(await trust.getRotation(key.address)).to.deep.equal([ethers.ZeroAddress, false, true]);
        const batch = makeBatch(2, "thief after retirement");
        await expect(registry.connect(thief).anchor(batch.root, batch.digests))
          .to.be.revertedWithCustomError(registry, "LicenseRegistryUnknownKey")
          .withArgs(thief.address);
        // and once the second has passed the stolen key can do nothing either, nor the authority with it
        await expect(trust.connect(key).rotateKey(ISSUER_ID, key.address, thief.address, accept(ISSUER_ID, thief.address)))
          .to.be.revertedWithCustomError(trust, "TrustRegistryNotIssuerOrAuthority")
          .withArgs(ISSUER_ID, key.address);
        await expect(trust.connect(authority).rotateKey(ISSUER_ID, key.address, thief.address, accept(ISSUER_ID, thief.address)))
          .to.be.revertedWithCustomError(trust, "TrustRegistryKeyClosed")
          .withArgs(ISSUER_ID, key.address);
      });
    });

    for (const kind of INVALID_KEY_KINDS.filter((k) => k !== "a retired key")) {
      it(`reverts with TrustRegistryKeyNotValid for ${kind}, which is not closed (authority)`, async function () {
        const oldKey = await makeInvalidKey(this, kind);
        expect((await this.trust.getRotation(oldKey.address)).closed).to.be.false;
        const before = await this.trust.getKey(oldKey.address);
        const ts = await nextTimestamp();
        await expect(this.trust.connect(this.authority).rotateKey(ISSUER_ID, oldKey.address, this.newKey.address, accept(ISSUER_ID, this.newKey.address)))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyNotValid")
          .withArgs(ISSUER_ID, oldKey.address, ts);
        expect(await this.trust.getKey(oldKey.address)).to.deep.equal(before);
        expect(await this.trust.getKey(this.newKey.address)).to.deep.equal([ethers.ZeroHash, 0n, 0n]);
      });
    }

    it("reverts with TrustRegistryKeyClosed for a retired key, once its last second has passed (authority)", async function () {
      const oldKey = await makeInvalidKey(this, "a retired key");
      const before = await this.trust.getKey(oldKey.address);
      expect(await this.trust.getRotation(oldKey.address)).to.deep.equal([ethers.ZeroAddress, false, true]);
      await expect(this.trust.connect(this.authority).rotateKey(ISSUER_ID, oldKey.address, this.newKey.address, accept(ISSUER_ID, this.newKey.address)))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyClosed")
        .withArgs(ISSUER_ID, oldKey.address);
      expect(await this.trust.getKey(oldKey.address)).to.deep.equal(before);
      expect(await this.trust.getKey(this.newKey.address)).to.deep.equal([ethers.ZeroHash, 0n, 0n]);
    });

    it("a closed old key is refused before the new key is looked at (zero, an authority, a key in use)", async function () {
      await this.trust.connect(this.authority).rotateKey(ISSUER_ID, this.key.address, this.newKey.address, accept(ISSUER_ID, this.newKey.address));
      for (const target of [ethers.ZeroAddress, this.authority.address, this.otherKey.address, this.newKey.address]) {
        await expect(this.trust.connect(this.authority).rotateKey(ISSUER_ID, this.key.address, target, accept(ISSUER_ID, target)))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyClosed")
          .withArgs(ISSUER_ID, this.key.address);
      }
      // and so is an old key not valid now (not closed): its window is checked before the new key too
      const expired = await makeInvalidKey(this, "an expired key");
      const ts = await nextTimestamp();
      await expect(this.trust.connect(this.authority).rotateKey(ISSUER_ID, expired.address, this.authority.address, accept(ISSUER_ID, this.authority.address)))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyNotValid")
        .withArgs(ISSUER_ID, expired.address, ts);
    });

    it("reverts at exactly the end of the old key's window", async function () {
      const from = BigInt(await time.latest());
      await this.trust.connect(this.authority).addKey(ISSUER_ID, this.spareKey.address, from, from + 100n, accept(ISSUER_ID, this.spareKey.address));
      await time.setNextBlockTimestamp(from + 100n);
      await expect(this.trust.connect(this.authority).rotateKey(ISSUER_ID, this.spareKey.address, this.newKey.address, accept(ISSUER_ID, this.newKey.address)))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyNotValid")
        .withArgs(ISSUER_ID, this.spareKey.address, from + 100n);
    });

    it("reverts for an old key that is not a key of the issuer (authority)", async function () {
      await expect(this.trust.connect(this.authority).rotateKey(ISSUER_ID, this.otherKey.address, this.newKey.address, accept(ISSUER_ID, this.newKey.address)))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryUnknownKey")
        .withArgs(ISSUER_ID, this.otherKey.address);
      await expect(this.trust.connect(this.authority).rotateKey(ISSUER_ID, this.stranger.address, this.newKey.address, accept(ISSUER_ID, this.newKey.address)))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryUnknownKey")
        .withArgs(ISSUER_ID, this.stranger.address);
    });

    for (const who of ["authority", "key"]) {
      it(`reverts for the zero new key, leaving the old key untouched (${who})`, async function () {
        await expect(
          this.trust.connect(this[who]).rotateKey(ISSUER_ID, this.key.address, ethers.ZeroAddress, accept(ISSUER_ID, ethers.ZeroAddress)),
        ).to.be.revertedWithCustomError(this.trust, "TrustRegistryZeroAddress");
        expect(await this.trust.getKey(this.key.address)).to.deep.equal([ISSUER_ID, this.keyValidFrom, OPEN_END]);
        // a failed rotation does not close the key: it can still be rotated
        expect(await this.trust.getRotation(this.key.address)).to.deep.equal([ethers.ZeroAddress, false, false]);
        await expect(this.trust.connect(this[who]).rotateKey(ISSUER_ID, this.key.address, this.newKey.address, accept(ISSUER_ID, this.newKey.address)))
          .to.emit(this.trust, "KeyRotated")
          .withArgs(ISSUER_ID, this.key.address, this.newKey.address, who === "key");
      });

      it(`reverts for a new key already in use (another issuer's, the old key itself) (${who})`, async function () {
        const caller = this[who];
        await expect(this.trust.connect(caller).rotateKey(ISSUER_ID, this.key.address, this.otherKey.address, accept(ISSUER_ID, this.otherKey.address)))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyInUse")
          .withArgs(this.otherKey.address, OTHER_ISSUER_ID);
        await expect(this.trust.connect(caller).rotateKey(ISSUER_ID, this.key.address, this.key.address, accept(ISSUER_ID, this.key.address)))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyInUse")
          .withArgs(this.key.address, ISSUER_ID);
        expect(await this.trust.getKey(this.key.address)).to.deep.equal([ISSUER_ID, this.keyValidFrom, OPEN_END]);
      });

      it(`reverts with TrustRegistryKeyIsAuthority for a new key that is an authority of the issuer's region, leaving the old key open (${who})`, async function () {
        const caller = this[who];
        const second = this.accounts[0];
        await this.trust.connect(this.admin).addRegionAuthority(REGION, second.address);
        for (const account of [this.authority, second]) {
          await expect(this.trust.connect(caller).rotateKey(ISSUER_ID, this.key.address, account.address, accept(ISSUER_ID, account.address)))
            .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyIsAuthority")
            .withArgs(ISSUER_ID, account.address);
          expect(await this.trust.getKey(account.address)).to.deep.equal([ethers.ZeroHash, 0n, 0n]);
        }
        // before TrustRegistryKeyInUse: a key of another issuer made an authority of the region
        await this.trust.connect(this.admin).addRegionAuthority(REGION, this.otherKey.address);
        await expect(this.trust.connect(caller).rotateKey(ISSUER_ID, this.key.address, this.otherKey.address, accept(ISSUER_ID, this.otherKey.address)))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyIsAuthority")
          .withArgs(ISSUER_ID, this.otherKey.address);
        // the old key is untouched and not closed: it can still be rotated
        expect(await this.trust.getKey(this.key.address)).to.deep.equal([ISSUER_ID, this.keyValidFrom, OPEN_END]);
        expect(await this.trust.getRotation(this.key.address)).to.deep.equal([ethers.ZeroAddress, false, false]);
        await expect(this.trust.connect(caller).rotateKey(ISSUER_ID, this.key.address, this.newKey.address, accept(ISSUER_ID, this.newKey.address)))
          .to.emit(this.trust, "KeyRotated")
          .withArgs(ISSUER_ID, this.key.address, this.newKey.address, who === "key");
      });

      it(`rotates to an authority of another region (${who})`, async function () {
        const ts = await nextTimestamp();
        const tx = this.trust.connect(this[who]).rotateKey(ISSUER_ID, this.key.address, this.otherAuthority.address, accept(ISSUER_ID, this.otherAuthority.address));
        expect(await eventsOf(this.trust, tx)).to.deep.equal([
          ["KeyRetired", ISSUER_ID, this.key.address, ts + 1n],
          ["KeyAdded", ISSUER_ID, this.otherAuthority.address, ts, OPEN_END],
          ["KeyRotated", ISSUER_ID, this.key.address, this.otherAuthority.address, who === "key"],
        ]);
        await expect(tx)
          .to.emit(this.trust, "KeyRotated")
          .withArgs(ISSUER_ID, this.key.address, this.otherAuthority.address, who === "key");
      });
    }

    shouldOnlyAllowKeyItselfOrAuthority((ctx, caller, issuerId, key) =>
      ctx.trust.connect(caller).rotateKey(issuerId, key.address, ctx.newKey.address, accept(issuerId, ctx.newKey.address)),
    );
  });

  describe("key acceptance: a key is added or rotated to only with its own signed acceptance", function () {
    /** Acceptances of `newKey` that are not its acceptance of ISSUER_ID in this registry. */
    function badAcceptances(ctx) {
      const otherDomain = { ...acceptanceDomain, verifyingContract: ctx.stranger.address };
      return {
        missing: "0x",
        "signed by another account": accept(ISSUER_ID, ctx.newKey.address, { by: ctx.stranger.address }),
        "signed by the caller": accept(ISSUER_ID, ctx.newKey.address, { by: ctx.key.address }),
        "for another issuer (replayed)": accept(OTHER_ISSUER_ID, ctx.newKey.address),
        "for another key": accept(ISSUER_ID, ctx.spareKey.address, { by: ctx.newKey.address }),
        "under another trust registry's domain": accept(ISSUER_ID, ctx.newKey.address, { domain: otherDomain }),
        "under another chain's domain": accept(ISSUER_ID, ctx.newKey.address, {
          domain: { ...acceptanceDomain, chainId: 1 },
        }),
        "truncated": accept(ISSUER_ID, ctx.newKey.address).slice(0, 130),
      };
    }

    const kinds = [
      "missing",
      "signed by another account",
      "signed by the caller",
      "for another issuer (replayed)",
      "for another key",
      "under another trust registry's domain",
      "under another chain's domain",
      "truncated",
    ];

    for (const kind of kinds) {
      it(`addKey reverts with TrustRegistryKeyNotAccepted for an acceptance ${kind}`, async function () {
        const from = BigInt(await time.latest());
        const acceptance = badAcceptances(this)[kind];
        await expect(this.trust.connect(this.authority).addKey(ISSUER_ID, this.newKey.address, from, OPEN_END, acceptance))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyNotAccepted")
          .withArgs(ISSUER_ID, this.newKey.address);
        expect(await this.trust.getKey(this.newKey.address)).to.deep.equal([ethers.ZeroHash, 0n, 0n]);
      });

      for (const who of ["authority", "key"]) {
        it(`rotateKey (${who === "key" ? "the key itself" : "authority"}) reverts for an acceptance ${kind}, leaving the old key open`, async function () {
          const acceptance = badAcceptances(this)[kind];
          await expect(this.trust.connect(this[who]).rotateKey(ISSUER_ID, this.key.address, this.newKey.address, acceptance))
            .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyNotAccepted")
            .withArgs(ISSUER_ID, this.newKey.address);
          expect(await this.trust.getRotation(this.key.address)).to.deep.equal([ethers.ZeroAddress, false, false]);
          expect(await this.trust.getKey(this.key.address)).to.deep.equal([ISSUER_ID, this.keyValidFrom, OPEN_END]);
          expect(await this.trust.getKey(this.newKey.address)).to.deep.equal([ethers.ZeroHash, 0n, 0n]);
        });
      }
    }

    it("another department cannot squat a key this department announced, nor replay its acceptance", async function () {
      // ISSUER_ID's department generated newKey and published its acceptance for ISSUER_ID
      const published = accept(ISSUER_ID, this.newKey.address);
      // a valid key of another department rotates itself onto it, with or without that acceptance
      for (const acceptance of ["0x", published]) {
        await expect(
          this.trust.connect(this.otherKey).rotateKey(OTHER_ISSUER_ID, this.otherKey.address, this.newKey.address, acceptance),
        )
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyNotAccepted")
          .withArgs(OTHER_ISSUER_ID, this.newKey.address);
        const from = BigInt(await time.latest());
        await expect(
          this.trust.connect(this.otherAuthority).addKey(OTHER_ISSUER_ID, this.newKey.address, from, OPEN_END, acceptance),
        )
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyNotAccepted")
          .withArgs(OTHER_ISSUER_ID, this.newKey.address);
      }
      // the department's own authority adds it
      const from = BigInt(await time.latest());
      await expect(this.trust.connect(this.authority).addKey(ISSUER_ID, this.newKey.address, from, OPEN_END, published))
        .to.emit(this.trust, "KeyAdded")
        .withArgs(ISSUER_ID, this.newKey.address, from, OPEN_END);
    });

    it("the acceptance is checked last: other refusals keep their own errors", async function () {
      const from = BigInt(await time.latest());
      const asAuthority = this.trust.connect(this.authority);
      await expect(asAuthority.addKey(ISSUER_ID, ethers.ZeroAddress, from, OPEN_END, "0x")).to.be.revertedWithCustomError(
        this.trust,
        "TrustRegistryZeroAddress",
      );
      await expect(asAuthority.addKey(ISSUER_ID, this.otherKey.address, from, OPEN_END, "0x"))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyInUse")
        .withArgs(this.otherKey.address, OTHER_ISSUER_ID);
      await expect(asAuthority.addKey(ISSUER_ID, this.newKey.address, from, from, "0x"))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryInvalidWindow")
        .withArgs(from, from);
      await expect(this.trust.connect(this.stranger).addKey(ISSUER_ID, this.newKey.address, from, OPEN_END, "0x"))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotRegionAuthority")
        .withArgs(REGION, this.stranger.address);
      await expect(this.trust.connect(this.stranger).rotateKey(ISSUER_ID, this.key.address, this.newKey.address, "0x"))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotIssuerOrAuthority")
        .withArgs(ISSUER_ID, this.stranger.address);
    });

    it("a contract key accepts through ERC-1271 (its owner's signature), and only so", async function () {
      const forwarder = await deployForwarder(); // owner: the deployer, `admin`
      const address = await forwarder.getAddress();
      const from = BigInt(await time.latest());
      const asAuthority = this.trust.connect(this.authority);
      await expect(asAuthority.addKey(ISSUER_ID, address, from, OPEN_END, accept(ISSUER_ID, address, { by: this.stranger.address })))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyNotAccepted")
        .withArgs(ISSUER_ID, address);
      await expect(asAuthority.addKey(ISSUER_ID, address, from, OPEN_END, accept(ISSUER_ID, address, { by: this.admin.address })))
        .to.emit(this.trust, "KeyAdded")
        .withArgs(ISSUER_ID, address, from, OPEN_END);
    });

    it("signs KeyAcceptance(bytes32 issuerId,address key) under the trust registry's EIP-712 domain", async function () {
      expect(await this.trust.KEY_ACCEPTANCE_TYPEHASH()).to.equal(ethers.id("KeyAcceptance(bytes32 issuerId,address key)"));
      const fields = await this.trust.eip712Domain();
      expect([fields.name, fields.version, fields.chainId, fields.verifyingContract]).to.deep.equal([
        "E-License Trust Registry",
        "1",
        31337n,
        await this.trust.getAddress(),
      ]);
      expect(await this.trust.keyAcceptanceDigest(ISSUER_ID, this.newKey.address)).to.equal(
        acceptanceDigest(ISSUER_ID, this.newKey.address),
      );
      // ethers' own typed-data signing gives an acceptance the contract takes
      const signature = await this.newKey.signTypedData(acceptanceDomain, KEY_ACCEPTANCE_TYPES, {
        issuerId: ISSUER_ID,
        key: this.newKey.address,
      });
      await expect(this.trust.connect(this.authority).rotateKey(ISSUER_ID, this.key.address, this.newKey.address, signature))
        .to.emit(this.trust, "KeyRotated")
        .withArgs(ISSUER_ID, this.key.address, this.newKey.address, false);
    });
  });

  describe("retireKey", function () {
    for (const who of ["authority", "key"]) {
      it(`ends the window after the block's second and emits KeyRetired (${who})`, async function () {
        const ts = await nextTimestamp(10n);
        const tx = this.trust.connect(this[who]).retireKey(ISSUER_ID, this.key.address);
        await expect(tx).to.emit(this.trust, "KeyRetired").withArgs(ISSUER_ID, this.key.address, ts + 1n);
        expect(await eventsOf(this.trust, tx)).to.deep.equal([["KeyRetired", ISSUER_ID, this.key.address, ts + 1n]]);
        expect(await this.trust.getKey(this.key.address)).to.deep.equal([ISSUER_ID, this.keyValidFrom, ts + 1n]);
        expect(await this.trust.isKeyValid(ISSUER_ID, this.key.address, ts - 1n)).to.be.true;
        expect(await this.trust.isKeyValid(ISSUER_ID, this.key.address, ts)).to.be.true;
        expect(await this.trust.isKeyValid(ISSUER_ID, this.key.address, ts + 1n)).to.be.false;
        // closed, with no successor
        expect(await this.trust.getRotation(this.key.address)).to.deep.equal([ethers.ZeroAddress, false, true]);
      });
    }

    describe("a key is closed once retired or rotated: it cannot be retired, even within its last second", function () {
      const CALLERS = { key: "the key itself", authority: "an authority" };
      for (const [firstAction, action] of [
        ["retires", (ctx, caller, o) => ctx.trust.connect(caller).retireKey(ISSUER_ID, ctx.key.address, o)],
        ["rotates", (ctx, caller, o) => ctx.trust.connect(caller).rotateKey(ISSUER_ID, ctx.key.address, ctx.newKey.address, accept(ISSUER_ID, ctx.newKey.address), o)],
      ]) {
        for (const [first, firstName] of Object.entries(CALLERS)) {
          for (const [second, secondName] of Object.entries(CALLERS)) {
            it(`${firstName} ${firstAction} it, then ${secondName} retires it in the same block: TrustRegistryKeyClosed`, async function () {
              const { trust, key, newKey } = this;
              const t = await nextTimestamp(10n);
              const { responses, receipts, timestamp } = await inOneBlock([
                (o) => action(this, this[first], o),
                (o) => trust.connect(this[second]).retireKey(ISSUER_ID, key.address, o),
              ]);
              expect(timestamp).to.equal(t);
              expect(receipts.map((r) => r.status)).to.deep.equal([1, 0]);
              const bySelf = first === "key";
              const expected =
                firstAction === "retires"
                  ? [["KeyRetired", ISSUER_ID, key.address, t + 1n]]
                  : [
                      ["KeyRetired", ISSUER_ID, key.address, t + 1n],
                      ["KeyAdded", ISSUER_ID, newKey.address, t, OPEN_END],
                      ["KeyRotated", ISSUER_ID, key.address, newKey.address, bySelf],
                    ];
              expect(await eventsOf(trust, responses[0])).to.deep.equal(expected);
              // valid at t, yet a second retirement is refused (it was a silent no-op before)
              expect(await trust.isKeyValid(ISSUER_ID, key.address, t)).to.be.true;
              await expect(outcomeOf(responses[1]))
                .to.be.revertedWithCustomError(trust, "TrustRegistryKeyClosed")
                .withArgs(ISSUER_ID, key.address);
              expect(receipts[1].logs).to.have.lengthOf(0);
              expect(await trust.getKey(key.address)).to.deep.equal([ISSUER_ID, this.keyValidFrom, t + 1n]);
              expect(await trust.getRotation(key.address)).to.deep.equal(
                firstAction === "retires" ? [ethers.ZeroAddress, false, true] : [newKey.address, bySelf, true],
              );
            });
          }
        }
      }

      it("a key retired before its start (empty window) cannot be retired again", async function () {
        const from = BigInt(await time.latest()) + 1000n;
        await this.trust.connect(this.authority).addKey(ISSUER_ID, this.newKey.address, from, OPEN_END, accept(ISSUER_ID, this.newKey.address));
        await expect(this.trust.connect(this.authority).retireKey(ISSUER_ID, this.newKey.address))
          .to.emit(this.trust, "KeyRetired")
          .withArgs(ISSUER_ID, this.newKey.address, from);
        expect(await this.trust.getRotation(this.newKey.address)).to.deep.equal([ethers.ZeroAddress, false, true]);
        // its window [from, from) still ends after now, but the key is closed
        await expect(this.trust.connect(this.authority).retireKey(ISSUER_ID, this.newKey.address))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyClosed")
          .withArgs(ISSUER_ID, this.newKey.address);
        // nor rotated
        await expect(this.trust.connect(this.authority).rotateKey(ISSUER_ID, this.newKey.address, this.spareKey.address, accept(ISSUER_ID, this.spareKey.address)))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyClosed")
          .withArgs(ISSUER_ID, this.newKey.address);
        expect(await this.trust.getKey(this.newKey.address)).to.deep.equal([ISSUER_ID, from, from]);
      });
    });

    it("a key that retired itself loses its power", async function () {
      await this.trust.connect(this.key).retireKey(ISSUER_ID, this.key.address);
      await expect(this.trust.connect(this.key).retireKey(ISSUER_ID, this.key.address))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotIssuerOrAuthority")
        .withArgs(ISSUER_ID, this.key.address);
      await expect(this.trust.connect(this.key).rotateKey(ISSUER_ID, this.key.address, this.newKey.address, accept(ISSUER_ID, this.newKey.address)))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotIssuerOrAuthority")
        .withArgs(ISSUER_ID, this.key.address);
    });

    it("ends a key that has not started at its validFrom (empty window)", async function () {
      const from = BigInt(await time.latest()) + 1000n;
      await this.trust.connect(this.authority).addKey(ISSUER_ID, this.newKey.address, from, OPEN_END, accept(ISSUER_ID, this.newKey.address));
      const tx = this.trust.connect(this.authority).retireKey(ISSUER_ID, this.newKey.address);
      await expect(tx).to.emit(this.trust, "KeyRetired").withArgs(ISSUER_ID, this.newKey.address, from);
      expect(await eventsOf(this.trust, tx)).to.deep.equal([["KeyRetired", ISSUER_ID, this.newKey.address, from]]);
      expect(await this.trust.getKey(this.newKey.address)).to.deep.equal([ISSUER_ID, from, from]);
      for (const at of [from - 1n, from, from + 1n]) {
        expect(await this.trust.isKeyValid(ISSUER_ID, this.newKey.address, at)).to.be.false;
      }
      await time.increaseTo(from);
      await expect(this.trust.connect(this.newKey).retireKey(ISSUER_ID, this.newKey.address))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotIssuerOrAuthority")
        .withArgs(ISSUER_ID, this.newKey.address);
    });

    it("retiring in the second before a key starts empties its window; in the second it starts keeps that second", async function () {
      const [starting, later] = [this.newKey, this.spareKey];
      const ts = (await nextTimestamp()) + 10n;
      await this.trust.connect(this.authority).addKey(ISSUER_ID, starting.address, ts, OPEN_END, accept(ISSUER_ID, starting.address));
      await nextTimestamp();
      await this.trust.connect(this.authority).addKey(ISSUER_ID, later.address, ts + 1n, OPEN_END, accept(ISSUER_ID, later.address));
      const { responses } = await inOneBlock(
        [
          (o) => this.trust.connect(this.authority).retireKey(ISSUER_ID, starting.address, o),
          (o) => this.trust.connect(this.authority).retireKey(ISSUER_ID, later.address, o),
        ],
        ts,
      );
      expect(await eventsOf(this.trust, responses[0])).to.deep.equal([["KeyRetired", ISSUER_ID, starting.address, ts + 1n]]);
      expect(await eventsOf(this.trust, responses[1])).to.deep.equal([["KeyRetired", ISSUER_ID, later.address, ts + 1n]]);
      expect(await this.trust.getKey(starting.address)).to.deep.equal([ISSUER_ID, ts, ts + 1n]);
      expect(await this.trust.getKey(later.address)).to.deep.equal([ISSUER_ID, ts + 1n, ts + 1n]);
      expect(await this.trust.isKeyValid(ISSUER_ID, starting.address, ts)).to.be.true;
      expect(await this.trust.isKeyValid(ISSUER_ID, later.address, ts + 1n)).to.be.false;
    });

    for (const who of ["authority", "the key itself"]) {
      it(`ends a key with a finite window early (${who})`, async function () {
        const from = BigInt(await time.latest());
        await this.trust.connect(this.authority).addKey(ISSUER_ID, this.newKey.address, from, from + 1000n, accept(ISSUER_ID, this.newKey.address));
        const caller = who === "authority" ? this.authority : this.newKey;
        const ts = await nextTimestamp(10n);
        await expect(this.trust.connect(caller).retireKey(ISSUER_ID, this.newKey.address))
          .to.emit(this.trust, "KeyRetired")
          .withArgs(ISSUER_ID, this.newKey.address, ts + 1n);
        expect(await this.trust.getKey(this.newKey.address)).to.deep.equal([ISSUER_ID, from, ts + 1n]);
      });
    }

    for (const kind of ["an expired key", "a compromised key"]) {
      it(`reverts with TrustRegistryKeyNotValid for ${kind}, which is not closed (authority)`, async function () {
        const target = await makeInvalidKey(this, kind);
        expect((await this.trust.getRotation(target.address)).closed).to.be.false;
        const before = await this.trust.getKey(target.address);
        const ts = await nextTimestamp();
        await expect(this.trust.connect(this.authority).retireKey(ISSUER_ID, target.address))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyNotValid")
          .withArgs(ISSUER_ID, target.address, ts);
        expect(await this.trust.getKey(target.address)).to.deep.equal(before);
      });
    }

    it("reverts with TrustRegistryKeyClosed for a retired key, once its last second has passed (authority)", async function () {
      const target = await makeInvalidKey(this, "a retired key");
      const before = await this.trust.getKey(target.address);
      // closed AND its window has ended: closed is checked first
      expect(await this.trust.isKeyValid(ISSUER_ID, target.address, BigInt(await time.latest()) + 1n)).to.be.false;
      await expect(this.trust.connect(this.authority).retireKey(ISSUER_ID, target.address))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyClosed")
        .withArgs(ISSUER_ID, target.address);
      expect(await this.trust.getKey(target.address)).to.deep.equal(before);
    });

    it("reverts at exactly the end of the key's window", async function () {
      const from = BigInt(await time.latest());
      await this.trust.connect(this.authority).addKey(ISSUER_ID, this.newKey.address, from, from + 100n, accept(ISSUER_ID, this.newKey.address));
      await time.setNextBlockTimestamp(from + 100n);
      await expect(this.trust.connect(this.authority).retireKey(ISSUER_ID, this.newKey.address))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyNotValid")
        .withArgs(ISSUER_ID, this.newKey.address, from + 100n);
    });

    it("reverts for a key that is not a key of the issuer (authority)", async function () {
      await expect(this.trust.connect(this.authority).retireKey(ISSUER_ID, this.otherKey.address))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryUnknownKey")
        .withArgs(ISSUER_ID, this.otherKey.address);
      await expect(this.trust.connect(this.authority).retireKey(ISSUER_ID, this.stranger.address))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryUnknownKey")
        .withArgs(ISSUER_ID, this.stranger.address);
    });

    shouldOnlyAllowKeyItselfOrAuthority((ctx, caller, issuerId, key) =>
      ctx.trust.connect(caller).retireKey(issuerId, key.address),
    );
  });

  describe("TrustRegistryKeyClosed (rotated or retired) before TrustRegistryKeyNotValid (window not containing now)", function () {
    /**
     * Each state of a key of ISSUER_ID, once its last second (if any) has passed: `setup(ctx)` puts
     * a key in it and returns that key; `closed` says whether it was rotated or retired (then both
     * rotateKey and retireKey revert with TrustRegistryKeyClosed, whatever its window), otherwise
     * `rotate` / `retire` name the outcome: "notValid" (TrustRegistryKeyNotValid) or "ok".
     */
    const STATES = [
      {
        name: "rotated by itself",
        closed: true,
        setup: async (ctx) => {
          await ctx.trust.connect(ctx.key).rotateKey(ISSUER_ID, ctx.key.address, ctx.newKey.address, accept(ISSUER_ID, ctx.newKey.address));
          return ctx.key;
        },
      },
      {
        name: "rotated by an authority",
        closed: true,
        setup: async (ctx) => {
          await ctx.trust.connect(ctx.authority).rotateKey(ISSUER_ID, ctx.key.address, ctx.newKey.address, accept(ISSUER_ID, ctx.newKey.address));
          return ctx.key;
        },
      },
      {
        name: "retired (its window ended)",
        closed: true,
        setup: async (ctx) => {
          await ctx.trust.connect(ctx.key).retireKey(ISSUER_ID, ctx.key.address);
          return ctx.key;
        },
      },
      {
        name: "retired before its start (empty window ending in the future)",
        closed: true,
        setup: async (ctx) => {
          const from = BigInt(await time.latest()) + 1000n;
          await ctx.trust.connect(ctx.authority).addKey(ISSUER_ID, ctx.spareKey.address, from, OPEN_END, accept(ISSUER_ID, ctx.spareKey.address));
          await ctx.trust.connect(ctx.authority).retireKey(ISSUER_ID, ctx.spareKey.address);
          return ctx.spareKey;
        },
      },
      {
        name: "rotated by itself, then declared compromised",
        closed: true,
        setup: async (ctx) => {
          await ctx.trust.connect(ctx.key).rotateKey(ISSUER_ID, ctx.key.address, ctx.newKey.address, accept(ISSUER_ID, ctx.newKey.address));
          await time.increase(10);
          await ctx.trust.connect(ctx.authority).declareKeyCompromised(ISSUER_ID, ctx.key.address, ctx.keyValidFrom);
          return ctx.key;
        },
      },
      {
        name: "retired, then declared compromised",
        closed: true,
        setup: async (ctx) => {
          await ctx.trust.connect(ctx.authority).retireKey(ISSUER_ID, ctx.key.address);
          await time.increase(10);
          await ctx.trust.connect(ctx.authority).declareKeyCompromised(ISSUER_ID, ctx.key.address, ctx.keyValidFrom);
          return ctx.key;
        },
      },
      {
        name: "a self-rotated successor voided by a compromise, that had rotated itself in turn",
        closed: true,
        setup: async (ctx) => {
          await ctx.trust.connect(ctx.key).rotateKey(ISSUER_ID, ctx.key.address, ctx.newKey.address, accept(ISSUER_ID, ctx.newKey.address));
          await ctx.trust.connect(ctx.newKey).rotateKey(ISSUER_ID, ctx.newKey.address, ctx.spareKey.address, accept(ISSUER_ID, ctx.spareKey.address));
          await time.increase(10);
          await ctx.trust.connect(ctx.authority).declareKeyCompromised(ISSUER_ID, ctx.key.address, ctx.keyValidFrom);
          return ctx.newKey;
        },
      },
      { name: "expired", closed: false, rotate: "notValid", retire: "notValid", setup: (ctx) => makeInvalidKey(ctx, "an expired key") },
      { name: "compromised", closed: false, rotate: "notValid", retire: "notValid", setup: (ctx) => makeInvalidKey(ctx, "a compromised key") },
      {
        name: "a self-rotated successor voided by a compromise (empty window, never rotated)",
        closed: false,
        rotate: "notValid",
        retire: "notValid",
        setup: async (ctx) => {
          await ctx.trust.connect(ctx.key).rotateKey(ISSUER_ID, ctx.key.address, ctx.newKey.address, accept(ISSUER_ID, ctx.newKey.address));
          await time.increase(10);
          await ctx.trust.connect(ctx.authority).declareKeyCompromised(ISSUER_ID, ctx.key.address, ctx.keyValidFrom);
          return ctx.newKey;
        },
      },
      // not started yet: cannot be rotated, but can be retired (its window becomes empty)
      { name: "not valid yet", closed: false, rotate: "notValid", retire: "ok", setup: (ctx) => makeInvalidKey(ctx, "a key not valid yet") },
    ];

    for (const state of STATES) {
      it(`a key ${state.name}: ${state.closed ? "TrustRegistryKeyClosed for both" : `rotateKey ${state.rotate}, retireKey ${state.retire}`}`, async function () {
        const target = await state.setup(this);
        await time.increase(1); // past any last second
        const [, , closed] = await this.trust.getRotation(target.address);
        expect(closed).to.equal(state.closed);
        const before = await this.trust.getKey(target.address);
        const rotation = await this.trust.getRotation(target.address);
        const successor = this.accounts[0].address;
        const asAuthority = this.trust.connect(this.authority);
        for (const [action, send] of [
          ["rotate", () => asAuthority.rotateKey(ISSUER_ID, target.address, successor, accept(ISSUER_ID, successor))],
          ["retire", () => asAuthority.retireKey(ISSUER_ID, target.address)],
        ]) {
          const outcome = state.closed ? "closed" : state[action];
          if (outcome === "ok") continue;
          if (outcome === "closed") {
            await expect(send())
              .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyClosed")
              .withArgs(ISSUER_ID, target.address);
          } else {
            const ts = await nextTimestamp();
            expect(await this.trust.isKeyValid(ISSUER_ID, target.address, ts)).to.be.false;
            await expect(send())
              .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyNotValid")
              .withArgs(ISSUER_ID, target.address, ts);
          }
        }
        expect(await this.trust.getKey(target.address)).to.deep.equal(before);
        expect(await this.trust.getRotation(target.address)).to.deep.equal(rotation);
        expect(await this.trust.getKey(successor)).to.deep.equal([ethers.ZeroHash, 0n, 0n]);
        if (state.retire === "ok") {
          await expect(asAuthority.retireKey(ISSUER_ID, target.address)).to.emit(this.trust, "KeyRetired");
          // now it is closed
          await expect(asAuthority.retireKey(ISSUER_ID, target.address))
            .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyClosed")
            .withArgs(ISSUER_ID, target.address);
        }
      });
    }

    it("the key is looked up first: a closed key named under another issuer is TrustRegistryUnknownKey", async function () {
      await this.trust.connect(this.otherKey).retireKey(OTHER_ISSUER_ID, this.otherKey.address);
      expect((await this.trust.getRotation(this.otherKey.address)).closed).to.be.true;
      for (const send of [
        () => this.trust.connect(this.authority).retireKey(ISSUER_ID, this.otherKey.address),
        () => this.trust.connect(this.authority).rotateKey(ISSUER_ID, this.otherKey.address, this.newKey.address, accept(ISSUER_ID, this.newKey.address)),
      ]) {
        await expect(send())
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryUnknownKey")
          .withArgs(ISSUER_ID, this.otherKey.address);
      }
      // under its own issuer, by that issuer's authority: closed
      await expect(this.trust.connect(this.otherAuthority).retireKey(OTHER_ISSUER_ID, this.otherKey.address))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyClosed")
        .withArgs(OTHER_ISSUER_ID, this.otherKey.address);
    });

    it("access is checked first: a closed key acting on itself after its last second is TrustRegistryNotIssuerOrAuthority", async function () {
      await this.trust.connect(this.key).rotateKey(ISSUER_ID, this.key.address, this.newKey.address, accept(ISSUER_ID, this.newKey.address));
      for (const send of [
        () => this.trust.connect(this.key).retireKey(ISSUER_ID, this.key.address),
        () => this.trust.connect(this.key).rotateKey(ISSUER_ID, this.key.address, this.spareKey.address, accept(ISSUER_ID, this.spareKey.address)),
      ]) {
        await expect(send())
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotIssuerOrAuthority")
          .withArgs(ISSUER_ID, this.key.address);
      }
    });
  });

  describe("declareKeyCompromised", function () {
    beforeEach(async function () {
      await time.increase(100);
    });

    it("ends the window at the compromise time and emits KeyCompromised", async function () {
      const at = this.keyValidFrom + 10n;
      const tx = this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.key.address, at);
      await expect(tx).to.emit(this.trust, "KeyCompromised").withArgs(ISSUER_ID, this.key.address, at);
      // no successor: nothing walked, nothing truncated
      await expect(tx).not.to.emit(this.trust, "KeyCompromiseWalkTruncated");
      expect(await this.trust.getKey(this.key.address)).to.deep.equal([ISSUER_ID, this.keyValidFrom, at]);
      expect(await this.trust.isKeyValid(ISSUER_ID, this.key.address, at - 1n)).to.be.true;
      expect(await this.trust.isKeyValid(ISSUER_ID, this.key.address, at)).to.be.false;
      // the key loses its power
      await expect(this.trust.connect(this.key).retireKey(ISSUER_ID, this.key.address))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotIssuerOrAuthority")
        .withArgs(ISSUER_ID, this.key.address);
    });

    it("accepts exactly validFrom (empty window)", async function () {
      await expect(
        this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.key.address, this.keyValidFrom),
      )
        .to.emit(this.trust, "KeyCompromised")
        .withArgs(ISSUER_ID, this.key.address, this.keyValidFrom);
      expect(await this.trust.isKeyValid(ISSUER_ID, this.key.address, this.keyValidFrom)).to.be.false;
    });

    it("accepts exactly the block's time", async function () {
      const ts = await nextTimestamp();
      await expect(this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.key.address, ts))
        .to.emit(this.trust, "KeyCompromised")
        .withArgs(ISSUER_ID, this.key.address, ts);
      expect(await this.trust.getKey(this.key.address)).to.deep.equal([ISSUER_ID, this.keyValidFrom, ts]);
    });

    it("accepts a time before the end of a retired key (its last second), and an earlier time after a compromise", async function () {
      const ts = await nextTimestamp();
      await this.trust.connect(this.authority).retireKey(ISSUER_ID, this.key.address);
      expect(await this.trust.getKey(this.key.address)).to.deep.equal([ISSUER_ID, this.keyValidFrom, ts + 1n]);
      await time.increase(10);
      const asAuthority = this.trust.connect(this.authority);
      // a retired key has no successor: exactly one event each time
      for (const at of [ts, ts - 50n]) {
        const tx = asAuthority.declareKeyCompromised(ISSUER_ID, this.key.address, at);
        await expect(tx).to.emit(this.trust, "KeyCompromised").withArgs(ISSUER_ID, this.key.address, at);
        expect(await eventsOf(this.trust, tx)).to.deep.equal([["KeyCompromised", ISSUER_ID, this.key.address, at]]);
        expect(await this.trust.getKey(this.key.address)).to.deep.equal([ISSUER_ID, this.keyValidFrom, at]);
      }
    });

    it("a declaration from the block's own second stops the key at once, later in that block too", async function () {
      const t = await nextTimestamp(10n);
      const { responses, receipts } = await inOneBlock([
        (o) => this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.key.address, t, o),
        (o) => this.trust.connect(this.key).rotateKey(ISSUER_ID, this.key.address, this.newKey.address, accept(ISSUER_ID, this.newKey.address), o),
      ]);
      expect(receipts.map((r) => r.status)).to.deep.equal([1, 0]);
      expect(await eventsOf(this.trust, responses[0])).to.deep.equal([["KeyCompromised", ISSUER_ID, this.key.address, t]]);
      await expect(outcomeOf(responses[1]))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotIssuerOrAuthority")
        .withArgs(ISSUER_ID, this.key.address);
      expect(await this.trust.getKey(this.key.address)).to.deep.equal([ISSUER_ID, this.keyValidFrom, t]);
      expect(await this.trust.getKey(this.newKey.address)).to.deep.equal([ethers.ZeroHash, 0n, 0n]);
    });

    describe("successors the key rotated itself to", function () {
      /**
       * `from` rotates itself to `to` at the next block, `delta` seconds on (checking the events, in
       * order, and the recorded rotation); returns that time.
       */
      async function selfRotate(ctx, from, to, delta = 10n) {
        const ts = await nextTimestamp(delta);
        const tx = ctx.trust.connect(from).rotateKey(ISSUER_ID, from.address, to.address, accept(ISSUER_ID, to.address));
        expect(await eventsOf(ctx.trust, tx)).to.deep.equal([
          ["KeyRetired", ISSUER_ID, from.address, ts + 1n],
          ["KeyAdded", ISSUER_ID, to.address, ts, OPEN_END],
          ["KeyRotated", ISSUER_ID, from.address, to.address, true],
        ]);
        expect(await ctx.trust.getRotation(from.address)).to.deep.equal([to.address, true, true]);
        return ts;
      }

      /** `key` is not valid at any time, cannot act, and cannot anchor. */
      async function expectVoided(ctx, key, validFrom) {
        expect(await ctx.trust.getKey(key.address)).to.deep.equal([ISSUER_ID, validFrom, validFrom]);
        const now = BigInt(await time.latest());
        for (const at of [0n, validFrom - 1n, validFrom, validFrom + 1n, now, now + 1000n, OPEN_END - 1n]) {
          expect(await ctx.trust.isKeyValid(ISSUER_ID, key.address, at)).to.be.false;
        }
        const batch = makeBatch(2, `voided ${key.address}`);
        const ts = await nextTimestamp();
        await expect(ctx.registry.connect(key).anchor(batch.root, batch.digests))
          .to.be.revertedWithCustomError(ctx.registry, "LicenseRegistryKeyNotValid")
          .withArgs(ISSUER_ID, key.address, ts);
        await expect(ctx.trust.connect(key).rotateKey(ISSUER_ID, key.address, ctx.stranger.address, accept(ISSUER_ID, ctx.stranger.address)))
          .to.be.revertedWithCustomError(ctx.trust, "TrustRegistryNotIssuerOrAuthority")
          .withArgs(ISSUER_ID, key.address);
        await expect(ctx.trust.connect(key).retireKey(ISSUER_ID, key.address))
          .to.be.revertedWithCustomError(ctx.trust, "TrustRegistryNotIssuerOrAuthority")
          .withArgs(ISSUER_ID, key.address);
      }

      it("MAX_CASCADE, the most successors one declaration voids, is 64", async function () {
        expect(await this.trust.MAX_CASCADE()).to.equal(64n);
      });

      it("a thief's chain of self-rotations after compromisedAt is voided, in order, down the chain", async function () {
        const [thief1, thief2] = [this.newKey, this.spareKey];
        // the key is stolen at `stolenAt`; the thief rotates it to a key of their own, and again
        const stolenAt = BigInt(await time.latest());
        const t1 = await selfRotate(this, this.key, thief1);
        const t2 = await selfRotate(this, thief1, thief2);
        // meanwhile the thief's last key is valid and anchors
        const thiefBatch = makeBatch(2, "thief");
        await this.registry.connect(thief2).anchor(thiefBatch.root, thiefBatch.digests);
        expect(await this.trust.isKeyValid(ISSUER_ID, thief2.address, BigInt(await time.latest()))).to.be.true;

        await time.increase(10);
        const tx = this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.key.address, stolenAt);
        await expect(tx).to.emit(this.trust, "KeyCompromised").withArgs(ISSUER_ID, this.key.address, stolenAt);
        await expect(tx).to.emit(this.trust, "KeyCompromised").withArgs(ISSUER_ID, thief1.address, t1);
        await expect(tx).to.emit(this.trust, "KeyCompromised").withArgs(ISSUER_ID, thief2.address, t2);
        // the chain ends within MAX_CASCADE: the walk is not truncated
        await expect(tx).not.to.emit(this.trust, "KeyCompromiseWalkTruncated");
        expect(await eventsOf(this.trust, tx)).to.deep.equal([
          ["KeyCompromised", ISSUER_ID, this.key.address, stolenAt],
          ["KeyCompromised", ISSUER_ID, thief1.address, t1],
          ["KeyCompromised", ISSUER_ID, thief2.address, t2],
        ]);
        expect(await this.trust.getKey(this.key.address)).to.deep.equal([ISSUER_ID, this.keyValidFrom, stolenAt]);
        await expectVoided(this, thief1, t1);
        await expectVoided(this, thief2, t2);
        // the authority can do nothing more with them either
        const ts = await nextTimestamp();
        await expect(this.trust.connect(this.authority).retireKey(ISSUER_ID, thief2.address))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyNotValid")
          .withArgs(ISSUER_ID, thief2.address, ts);
        await expect(this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, thief2.address, t2))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryCompromiseTimeOutOfRange")
          .withArgs(thief2.address, t2, t2, t2);
        // and the thief's batch no longer counts as anchored by a valid key
        const anchor = await this.registry.getAnchor(ISSUER_ID, thiefBatch.root);
        expect(anchor.key).to.equal(thief2.address);
        expect(await this.trust.isKeyValid(ISSUER_ID, thief2.address, anchor.timestamp)).to.be.false;
      });

      it("keeps the self-rotation made before compromisedAt (a key declared in the middle of the chain)", async function () {
        const [a, b] = [this.newKey, this.spareKey];
        const t1 = await selfRotate(this, this.key, a);
        const t2 = await selfRotate(this, a, b, 20n);
        await time.increase(10);
        // a was stolen at t1 + 5, after the key rotated itself to it
        const tx = this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, a.address, t1 + 5n);
        expect(await eventsOf(this.trust, tx)).to.deep.equal([
          ["KeyCompromised", ISSUER_ID, a.address, t1 + 5n],
          ["KeyCompromised", ISSUER_ID, b.address, t2],
        ]);
        // the key's window (through the second of its rotation) and the rotation to `a` stand;
        // `a` keeps [t1, t1 + 5)
        expect(await this.trust.getKey(this.key.address)).to.deep.equal([ISSUER_ID, this.keyValidFrom, t1 + 1n]);
        expect(await this.trust.getKey(a.address)).to.deep.equal([ISSUER_ID, t1, t1 + 5n]);
        expect(await this.trust.isKeyValid(ISSUER_ID, a.address, t1)).to.be.true;
        expect(await this.trust.isKeyValid(ISSUER_ID, a.address, t1 + 4n)).to.be.true;
        expect(await this.trust.isKeyValid(ISSUER_ID, a.address, t1 + 5n)).to.be.false;
        await expectVoided(this, b, t2);
      });

      it("keeps a successor created by an authority's rotation, and the chain after it", async function () {
        const [a, b, c] = [this.newKey, this.spareKey, this.accounts[0]];
        const stolenAt = BigInt(await time.latest());
        // the authority rotates the key to `a`; `a` rotates itself to `b`
        const t1 = await nextTimestamp(10n);
        await expect(this.trust.connect(this.authority).rotateKey(ISSUER_ID, this.key.address, a.address, accept(ISSUER_ID, a.address)))
          .to.emit(this.trust, "KeyRotated")
          .withArgs(ISSUER_ID, this.key.address, a.address, false);
        expect(await this.trust.getRotation(this.key.address)).to.deep.equal([a.address, false, true]);
        const t2 = await selfRotate(this, a, b);
        await time.increase(10);
        const tx = this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.key.address, stolenAt);
        expect(await eventsOf(this.trust, tx)).to.deep.equal([["KeyCompromised", ISSUER_ID, this.key.address, stolenAt]]);
        await expect(tx).not.to.emit(this.trust, "KeyCompromiseWalkTruncated");
        expect(await this.trust.getKey(a.address)).to.deep.equal([ISSUER_ID, t1, t2 + 1n]);
        expect(await this.trust.getKey(b.address)).to.deep.equal([ISSUER_ID, t2, OPEN_END]);
        expect(await this.trust.isKeyValid(ISSUER_ID, b.address, BigInt(await time.latest()))).to.be.true;

        // a self-rotation followed by an authority rotation: the chain stops at the authority's key
        const t3 = await selfRotate(this, b, c);
        const d = this.accounts[1];
        const t4 = await nextTimestamp(10n);
        const rotation = this.trust.connect(this.authority).rotateKey(ISSUER_ID, c.address, d.address, accept(ISSUER_ID, d.address));
        expect(await eventsOf(this.trust, rotation)).to.deep.equal([
          ["KeyRetired", ISSUER_ID, c.address, t4 + 1n],
          ["KeyAdded", ISSUER_ID, d.address, t4, OPEN_END],
          ["KeyRotated", ISSUER_ID, c.address, d.address, false],
        ]);
        await time.increase(10);
        const tx2 = this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, b.address, t2 + 1n);
        expect(await eventsOf(this.trust, tx2)).to.deep.equal([
          ["KeyCompromised", ISSUER_ID, b.address, t2 + 1n],
          ["KeyCompromised", ISSUER_ID, c.address, t3],
        ]);
        expect(await this.trust.getKey(c.address)).to.deep.equal([ISSUER_ID, t3, t3]);
        expect(await this.trust.getKey(d.address)).to.deep.equal([ISSUER_ID, t4, OPEN_END]);
      });

      it("voids a successor that has since retired itself, and stops there", async function () {
        const a = this.newKey;
        const stolenAt = BigInt(await time.latest());
        const t1 = await selfRotate(this, this.key, a);
        const end = await nextTimestamp(10n);
        await this.trust.connect(a).retireKey(ISSUER_ID, a.address);
        expect(await this.trust.getKey(a.address)).to.deep.equal([ISSUER_ID, t1, end + 1n]);
        const tx = this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.key.address, stolenAt);
        expect(await eventsOf(this.trust, tx)).to.deep.equal([
          ["KeyCompromised", ISSUER_ID, this.key.address, stolenAt],
          ["KeyCompromised", ISSUER_ID, a.address, t1],
        ]);
        expect(await this.trust.getKey(a.address)).to.deep.equal([ISSUER_ID, t1, t1]);
      });

      it("a second, earlier declaration does not void the successors again", async function () {
        const a = this.newKey;
        const stolenAt = BigInt(await time.latest());
        const t1 = await selfRotate(this, this.key, a);
        await time.increase(10);
        await this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.key.address, stolenAt);
        const tx = this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.key.address, stolenAt - 10n);
        expect(await eventsOf(this.trust, tx)).to.deep.equal([
          ["KeyCompromised", ISSUER_ID, this.key.address, stolenAt - 10n],
        ]);
        expect(await this.trust.getKey(a.address)).to.deep.equal([ISSUER_ID, t1, t1]);
      });

      it("the latest compromisedAt accepted after a self-rotation is the rotation's second, which voids the successor", async function () {
        const t1 = await selfRotate(this, this.key, this.newKey);
        await time.increase(10);
        // the key's window ends after the second of its rotation: t1 + 1 is out of range
        await expect(this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.key.address, t1 + 1n))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryCompromiseTimeOutOfRange")
          .withArgs(this.key.address, t1 + 1n, this.keyValidFrom, t1 + 1n);
        // t1 is accepted, and voids the successor created in that second
        const tx = this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.key.address, t1);
        expect(await eventsOf(this.trust, tx)).to.deep.equal([
          ["KeyCompromised", ISSUER_ID, this.key.address, t1],
          ["KeyCompromised", ISSUER_ID, this.newKey.address, t1],
        ]);
        expect(await this.trust.getKey(this.key.address)).to.deep.equal([ISSUER_ID, this.keyValidFrom, t1]);
        expect(await this.trust.isKeyValid(ISSUER_ID, this.key.address, t1 - 1n)).to.be.true;
        expect(await this.trust.isKeyValid(ISSUER_ID, this.key.address, t1)).to.be.false;
        await expectVoided(this, this.newKey, t1);
      });

      describe("a thief's two self-rotations in one block (K -> A -> B, all at t)", function () {
        /** K rotates itself to A and A to B in one block; returns the time before the block and t. */
        async function rotateTwiceInOneBlock(ctx) {
          const stolenAt = BigInt(await time.latest());
          const t = stolenAt + 10n;
          const [a, b] = [ctx.newKey, ctx.spareKey];
          const { responses, receipts, timestamp } = await inOneBlock(
            [
              (o) => ctx.trust.connect(ctx.key).rotateKey(ISSUER_ID, ctx.key.address, a.address, accept(ISSUER_ID, a.address), o),
              (o) => ctx.trust.connect(a).rotateKey(ISSUER_ID, a.address, b.address, accept(ISSUER_ID, b.address), o),
            ],
            t,
          );
          expect(receipts.map((r) => r.status)).to.deep.equal([1, 1]);
          expect(timestamp).to.equal(t);
          expect(await eventsOf(ctx.trust, responses[0])).to.deep.equal([
            ["KeyRetired", ISSUER_ID, ctx.key.address, t + 1n],
            ["KeyAdded", ISSUER_ID, a.address, t, OPEN_END],
            ["KeyRotated", ISSUER_ID, ctx.key.address, a.address, true],
          ]);
          expect(await eventsOf(ctx.trust, responses[1])).to.deep.equal([
            ["KeyRetired", ISSUER_ID, a.address, t + 1n],
            ["KeyAdded", ISSUER_ID, b.address, t, OPEN_END],
            ["KeyRotated", ISSUER_ID, a.address, b.address, true],
          ]);
          // A's window is [t, t + 1), not empty; B's is [t, OPEN_END)
          expect(await ctx.trust.getKey(ctx.key.address)).to.deep.equal([ISSUER_ID, ctx.keyValidFrom, t + 1n]);
          expect(await ctx.trust.getKey(a.address)).to.deep.equal([ISSUER_ID, t, t + 1n]);
          expect(await ctx.trust.getKey(b.address)).to.deep.equal([ISSUER_ID, t, OPEN_END]);
          return { stolenAt, t, a, b };
        }

        for (const [description, when] of [
          ["from before the block", (stolenAt) => stolenAt],
          ["from the block's second t", (stolenAt, t) => t],
        ]) {
          it(`declaring K compromised ${description} voids A and B: neither is valid at any time, B cannot anchor`, async function () {
            const { stolenAt, t, a, b } = await rotateTwiceInOneBlock(this);
            const at = when(stolenAt, t);
            // the thief's B anchors meanwhile
            const forged = makeBatch(2, "forged by B");
            await this.registry.connect(b).anchor(forged.root, forged.digests);
            await time.increase(10);
            const tx = this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.key.address, at);
            await expect(tx).to.emit(this.trust, "KeyCompromised").withArgs(ISSUER_ID, a.address, t);
            await expect(tx).to.emit(this.trust, "KeyCompromised").withArgs(ISSUER_ID, b.address, t);
            await expect(tx).not.to.emit(this.trust, "KeyCompromiseWalkTruncated");
            expect(await eventsOf(this.trust, tx)).to.deep.equal([
              ["KeyCompromised", ISSUER_ID, this.key.address, at],
              ["KeyCompromised", ISSUER_ID, a.address, t],
              ["KeyCompromised", ISSUER_ID, b.address, t],
            ]);
            expect(await this.trust.getKey(this.key.address)).to.deep.equal([ISSUER_ID, this.keyValidFrom, at]);
            await expectVoided(this, a, t);
            await expectVoided(this, b, t);
            const anchor = await this.registry.getAnchor(ISSUER_ID, forged.root);
            expect(anchor.key).to.equal(b.address);
            expect(await this.trust.isKeyValid(ISSUER_ID, b.address, anchor.timestamp)).to.be.false;
          });
        }

        it("walks through successors voided before, without an event: A declared first, then K", async function () {
          const { stolenAt, t, a, b } = await rotateTwiceInOneBlock(this);
          await time.increase(10);
          const first = this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, a.address, t);
          expect(await eventsOf(this.trust, first)).to.deep.equal([
            ["KeyCompromised", ISSUER_ID, a.address, t],
            ["KeyCompromised", ISSUER_ID, b.address, t],
          ]);
          const second = this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.key.address, stolenAt);
          expect(await eventsOf(this.trust, second)).to.deep.equal([
            ["KeyCompromised", ISSUER_ID, this.key.address, stolenAt],
          ]);
          await expectVoided(this, a, t);
          await expectVoided(this, b, t);
        });
      });

      it("walks through a successor voided before, without an event, and voids the one before it", async function () {
        const [a, b, c] = [this.newKey, this.spareKey, this.accounts[0]];
        const stolenAt = BigInt(await time.latest());
        const t1 = await selfRotate(this, this.key, a);
        const t2 = await selfRotate(this, a, b);
        const t3 = await selfRotate(this, b, c);
        await time.increase(10);
        // b is declared compromised from its start: b and c are voided
        const first = this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, b.address, t2);
        expect(await eventsOf(this.trust, first)).to.deep.equal([
          ["KeyCompromised", ISSUER_ID, b.address, t2],
          ["KeyCompromised", ISSUER_ID, c.address, t3],
        ]);
        expect(await this.trust.getKey(a.address)).to.deep.equal([ISSUER_ID, t1, t2 + 1n]);
        // then the key: a is voided; b and c, voided already, are passed without an event
        const second = this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.key.address, stolenAt);
        expect(await eventsOf(this.trust, second)).to.deep.equal([
          ["KeyCompromised", ISSUER_ID, this.key.address, stolenAt],
          ["KeyCompromised", ISSUER_ID, a.address, t1],
        ]);
        await expectVoided(this, a, t1);
        await expectVoided(this, b, t2);
        await expectVoided(this, c, t3);
      });

      describe("at most MAX_CASCADE successors per declaration", function () {
        const CHAIN = 66; // self-rotations: keys K0 (the fixture's key), K1, ..., K66

        /**
         * The fixture's key rotates itself to K1, K1 to K2, ..., K(length - 1) to K(length), one
         * second apart; with `lastByAuthority`, the last rotation is made by an authority instead.
         */
        async function longChain(ctx, length = CHAIN, { lastByAuthority = false } = {}) {
          const keys = [ctx.key];
          for (let i = 1; i <= length; ++i) {
            const wallet = rememberKey(new ethers.Wallet(ethers.id(`cascade key ${i}`), ethers.provider));
            await setBalance(wallet.address, ethers.parseEther("1"));
            keys.push(wallet);
          }
          const stolenAt = BigInt(await time.latest());
          const starts = [ctx.keyValidFrom];
          for (let i = 0; i < length; ++i) {
            if (lastByAuthority && i === length - 1) {
              const ts = await nextTimestamp(1n);
              await expect(ctx.trust.connect(ctx.authority).rotateKey(ISSUER_ID, keys[i].address, keys[i + 1].address, accept(ISSUER_ID, keys[i + 1].address)))
                .to.emit(ctx.trust, "KeyRotated")
                .withArgs(ISSUER_ID, keys[i].address, keys[i + 1].address, false);
              starts.push(ts);
            } else {
              starts.push(await selfRotate(ctx, keys[i], keys[i + 1], 1n));
            }
          }
          return { keys, starts, stolenAt };
        }

        /** The events of voiding keys[from..to] (each at its start), in order. */
        function voidedEvents(keys, starts, from, to) {
          const events = [];
          for (let i = from; i <= to; ++i) events.push(["KeyCompromised", ISSUER_ID, keys[i].address, starts[i]]);
          return events;
        }

        /**
         * The first key `declared`'s last declaration did not reach: follow `getRotation` from it
         * through self-rotated successors, passing those voided (empty window), to the first whose
         * window is not empty. Returns that key and the number of voided keys passed.
         */
        async function firstKeyNotReached(trust, declared) {
          let current = declared;
          let passed = 0;
          for (;;) {
            const [successor, bySelf, closed] = await trust.getRotation(current);
            if (successor === ethers.ZeroAddress || !bySelf) return { key: null, passed };
            expect(closed).to.be.true; // a rotated key is closed
            const [, validFrom, validUntil] = await trust.getKey(successor);
            if (validFrom !== validUntil) return { key: successor, validFrom, passed };
            current = successor;
            passed += 1;
          }
        }

        it("voids K1..K64 only and emits KeyCompromiseWalkTruncated(K65); the last reached, K64, cannot be declared; K65, declared from its start, finishes the chain", async function () {
          this.timeout(20000);
          const { keys, starts, stolenAt } = await longChain(this);
          const max = Number(await this.trust.MAX_CASCADE());
          expect(max).to.equal(64);
          await time.increase(10);

          // the declaration of K0 voids exactly MAX_CASCADE successors, in order, then says where it
          // stopped: K65, the first key not reached
          const tx = this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, keys[0].address, stolenAt);
          await expect(tx).to.emit(this.trust, "KeyCompromised").withArgs(ISSUER_ID, keys[max].address, starts[max]);
          await expect(tx)
            .to.emit(this.trust, "KeyCompromiseWalkTruncated")
            .withArgs(ISSUER_ID, keys[max + 1].address);
          expect(await eventsOf(this.trust, tx)).to.deep.equal([
            ["KeyCompromised", ISSUER_ID, keys[0].address, stolenAt],
            ...voidedEvents(keys, starts, 1, max),
            ["KeyCompromiseWalkTruncated", ISSUER_ID, keys[max + 1].address],
          ]);
          // both of its parameters are indexed: a mirror finds it by issuer and by key
          const truncations = await this.trust.queryFilter(
            this.trust.filters.KeyCompromiseWalkTruncated(ISSUER_ID, keys[max + 1].address),
          );
          expect(truncations.map((log) => [log.transactionHash, ...log.args.toArray()])).to.deep.equal([
            [(await tx).hash, ISSUER_ID, keys[max + 1].address],
          ]);
          for (const i of [1, 2, max - 1, max]) {
            expect(await this.trust.getKey(keys[i].address)).to.deep.equal([ISSUER_ID, starts[i], starts[i]]);
          }
          // K65 is not reached: untouched, and its successor K66 is valid now
          expect(await this.trust.getKey(keys[max + 1].address)).to.deep.equal([
            ISSUER_ID,
            starts[max + 1],
            starts[max + 2] + 1n,
          ]);
          expect(await this.trust.getKey(keys[max + 2].address)).to.deep.equal([ISSUER_ID, starts[max + 2], OPEN_END]);
          const now = BigInt(await time.latest());
          expect(await this.trust.isKeyValid(ISSUER_ID, keys[max + 2].address, now)).to.be.true;

          // the last key reached, K64, has an empty window: no time is in range for declaring it
          const last = keys[max];
          for (const at of [starts[max], starts[max] + 1n]) {
            await expect(this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, last.address, at))
              .to.be.revertedWithCustomError(this.trust, "TrustRegistryCompromiseTimeOutOfRange")
              .withArgs(last.address, at, starts[max], starts[max]);
          }
          // declaring K0 again (earlier) walks through K1..K64 silently and stops at the limit again,
          // naming K65 again
          const again = this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, keys[0].address, stolenAt - 1n);
          await expect(again)
            .to.emit(this.trust, "KeyCompromiseWalkTruncated")
            .withArgs(ISSUER_ID, keys[max + 1].address);
          expect(await eventsOf(this.trust, again)).to.deep.equal([
            ["KeyCompromised", ISSUER_ID, keys[0].address, stolenAt - 1n],
            ["KeyCompromiseWalkTruncated", ISSUER_ID, keys[max + 1].address],
          ]);
          expect(await this.trust.isKeyValid(ISSUER_ID, keys[max + 2].address, now)).to.be.true;

          // the first key not reached, found with getRotation from K0: K65 (as the event said), after
          // the 64 keys voided
          const notReached = await firstKeyNotReached(this.trust, keys[0].address);
          expect(notReached.passed).to.equal(max);
          expect(notReached.key).to.equal(keys[max + 1].address);
          expect(notReached.validFrom).to.equal(starts[max + 1]);
          expect(await this.trust.getRotation(keys[max].address)).to.deep.equal([keys[max + 1].address, true, true]);
          // the KeyRotated events give the same link: K64 rotated itself to K65
          const logs = await this.trust.queryFilter(this.trust.filters.KeyRotated(ISSUER_ID, keys[max].address));
          expect(logs.map((log) => log.args.toArray())).to.deep.equal([
            [ISSUER_ID, keys[max].address, keys[max + 1].address, true],
          ]);

          // declaring it compromised from its start finishes the chain: no truncation this time
          const rest = this.trust
            .connect(this.authority)
            .declareKeyCompromised(ISSUER_ID, notReached.key, notReached.validFrom);
          await expect(rest).not.to.emit(this.trust, "KeyCompromiseWalkTruncated");
          expect(await eventsOf(this.trust, rest)).to.deep.equal(voidedEvents(keys, starts, max + 1, max + 2));
          // nothing is left: the walk from K0 passes all 66 voided keys and ends at the last, never rotated
          expect(await firstKeyNotReached(this.trust, keys[0].address)).to.deep.equal({ key: null, passed: CHAIN });
          for (let i = 1; i <= CHAIN; ++i) {
            expect(await this.trust.getKey(keys[i].address)).to.deep.equal([ISSUER_ID, starts[i], starts[i]]);
          }
          await expectVoided(this, keys[CHAIN], starts[CHAIN]);
        });

        it("exactly MAX_CASCADE (64) successors: all are voided and the walk is not truncated", async function () {
          this.timeout(20000);
          const max = Number(await this.trust.MAX_CASCADE());
          const { keys, starts, stolenAt } = await longChain(this, max);
          await time.increase(10);
          const tx = this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, keys[0].address, stolenAt);
          await expect(tx).not.to.emit(this.trust, "KeyCompromiseWalkTruncated");
          expect(await eventsOf(this.trust, tx)).to.deep.equal([
            ["KeyCompromised", ISSUER_ID, keys[0].address, stolenAt],
            ...voidedEvents(keys, starts, 1, max),
          ]);
          expect(await firstKeyNotReached(this.trust, keys[0].address)).to.deep.equal({ key: null, passed: max });
          await expectVoided(this, keys[max], starts[max]);
        });

        it("MAX_CASCADE + 1 (65) successors: truncated, the event names the last key, K65, whose declaration ends it", async function () {
          this.timeout(20000);
          const max = Number(await this.trust.MAX_CASCADE());
          const { keys, starts, stolenAt } = await longChain(this, max + 1);
          await time.increase(10);
          const tx = this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, keys[0].address, stolenAt);
          await expect(tx)
            .to.emit(this.trust, "KeyCompromiseWalkTruncated")
            .withArgs(ISSUER_ID, keys[max + 1].address);
          expect(await eventsOf(this.trust, tx)).to.deep.equal([
            ["KeyCompromised", ISSUER_ID, keys[0].address, stolenAt],
            ...voidedEvents(keys, starts, 1, max),
            ["KeyCompromiseWalkTruncated", ISSUER_ID, keys[max + 1].address],
          ]);
          // K65, the last key of the chain, is still valid now
          expect(await this.trust.getKey(keys[max + 1].address)).to.deep.equal([ISSUER_ID, starts[max + 1], OPEN_END]);
          const rest = this.trust
            .connect(this.authority)
            .declareKeyCompromised(ISSUER_ID, keys[max + 1].address, starts[max + 1]);
          await expect(rest).not.to.emit(this.trust, "KeyCompromiseWalkTruncated");
          expect(await eventsOf(this.trust, rest)).to.deep.equal(voidedEvents(keys, starts, max + 1, max + 1));
          await expectVoided(this, keys[max + 1], starts[max + 1]);
        });

        it("64 self-rotated successors, then an authority's rotation: the walk ends there, not truncated", async function () {
          this.timeout(20000);
          const max = Number(await this.trust.MAX_CASCADE());
          const { keys, starts, stolenAt } = await longChain(this, max + 1, { lastByAuthority: true });
          expect(await this.trust.getRotation(keys[max].address)).to.deep.equal([keys[max + 1].address, false, true]);
          await time.increase(10);
          const tx = this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, keys[0].address, stolenAt);
          await expect(tx).not.to.emit(this.trust, "KeyCompromiseWalkTruncated");
          expect(await eventsOf(this.trust, tx)).to.deep.equal([
            ["KeyCompromised", ISSUER_ID, keys[0].address, stolenAt],
            ...voidedEvents(keys, starts, 1, max),
          ]);
          // the key the authority created stands
          expect(await this.trust.getKey(keys[max + 1].address)).to.deep.equal([ISSUER_ID, starts[max + 1], OPEN_END]);
        });
      });
    });

    it("reverts for a time before validFrom", async function () {
      const at = this.keyValidFrom - 1n;
      await expect(this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.key.address, at))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryCompromiseTimeOutOfRange")
        .withArgs(this.key.address, at, this.keyValidFrom, OPEN_END);
    });

    it("reverts for a time in the future", async function () {
      const ts = await nextTimestamp();
      await expect(this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.key.address, ts + 1n))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryCompromiseTimeOutOfRange")
        .withArgs(this.key.address, ts + 1n, this.keyValidFrom, OPEN_END);
    });

    it("reverts for any time when the key has not started", async function () {
      const from = BigInt(await time.latest()) + 1000n;
      await this.trust.connect(this.authority).addKey(ISSUER_ID, this.newKey.address, from, OPEN_END, accept(ISSUER_ID, this.newKey.address));
      const at = BigInt(await time.latest());
      await expect(this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.newKey.address, at))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryCompromiseTimeOutOfRange")
        .withArgs(this.newKey.address, at, from, OPEN_END);
    });

    it("reverts for a time at or after the current end of the window", async function () {
      // retired at `end - 1`: the window ends after that second
      const end = (await nextTimestamp()) + 1n;
      await this.trust.connect(this.authority).retireKey(ISSUER_ID, this.key.address);
      expect(await this.trust.getKey(this.key.address)).to.deep.equal([ISSUER_ID, this.keyValidFrom, end]);
      await time.increase(100);
      for (const at of [end, end + 1n, end + 50n]) {
        await expect(this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.key.address, at))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryCompromiseTimeOutOfRange")
          .withArgs(this.key.address, at, this.keyValidFrom, end);
      }
      // a window only ever shrinks: a second compromise at a later time is refused too
      const first = this.keyValidFrom + 20n;
      await this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.key.address, first);
      await expect(
        this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.key.address, first + 1n),
      )
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryCompromiseTimeOutOfRange")
        .withArgs(this.key.address, first + 1n, this.keyValidFrom, first);
    });

    it("reverts for a key that is not a key of the issuer", async function () {
      const at = BigInt(await time.latest());
      await expect(this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.otherKey.address, at))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryUnknownKey")
        .withArgs(ISSUER_ID, this.otherKey.address);
      await expect(this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.stranger.address, at))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryUnknownKey")
        .withArgs(ISSUER_ID, this.stranger.address);
    });

    it("a valid key cannot declare itself or another key of its issuer compromised", async function () {
      const from = BigInt(await time.latest());
      await this.trust.connect(this.authority).addKey(ISSUER_ID, this.spareKey.address, from, OPEN_END, accept(ISSUER_ID, this.spareKey.address));
      for (const target of [this.key, this.spareKey]) {
        await expect(
          this.trust.connect(this.key).declareKeyCompromised(ISSUER_ID, target.address, this.keyValidFrom + 1n),
        )
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotRegionAuthority")
          .withArgs(REGION, this.key.address);
      }
    });

    shouldOnlyAllowRegionAuthority((ctx, caller, issuerId) =>
      ctx.trust.connect(caller).declareKeyCompromised(issuerId, ctx.key.address, ctx.keyValidFrom + 1n),
    );
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

  // ----------------------------------------------------------------------------------------------
  // Views
  // ----------------------------------------------------------------------------------------------

  describe("views", function () {
    describe("isKeyValid", function () {
      it("is true within [validFrom, validUntil) only", async function () {
        const from = this.keyValidFrom;
        expect(await this.trust.isKeyValid(ISSUER_ID, this.key.address, from - 1n)).to.be.false;
        expect(await this.trust.isKeyValid(ISSUER_ID, this.key.address, from)).to.be.true;
        expect(await this.trust.isKeyValid(ISSUER_ID, this.key.address, OPEN_END - 1n)).to.be.true;
        expect(await this.trust.isKeyValid(ISSUER_ID, this.key.address, OPEN_END)).to.be.false;
      });

      it("is false for another issuer, an unknown key and the zero issuer id", async function () {
        const now = BigInt(await time.latest());
        expect(await this.trust.isKeyValid(OTHER_ISSUER_ID, this.key.address, now)).to.be.false;
        expect(await this.trust.isKeyValid(ISSUER_ID, this.otherKey.address, now)).to.be.false;
        expect(await this.trust.isKeyValid(ISSUER_ID, this.stranger.address, now)).to.be.false;
        expect(await this.trust.isKeyValid(ethers.ZeroHash, this.stranger.address, now)).to.be.false;
        expect(await this.trust.isKeyValid(ethers.ZeroHash, this.stranger.address, 0n)).to.be.false;
        expect(await this.trust.isKeyValid(ethers.ZeroHash, this.key.address, now)).to.be.false;
      });
    });

    describe("mayIssue", function () {
      it("is false for a type never permitted", async function () {
        expect(await this.trust.mayIssue(ISSUER_ID, LICENSE_TYPE, 0n)).to.be.false;
        expect(await this.trust.mayIssue(ISSUER_ID, LICENSE_TYPE, BigInt(await time.latest()))).to.be.false;
      });

      it("is true within [validFrom, validUntil) only", async function () {
        const from = BigInt(await time.latest()) + 10n;
        const until = from + 100n;
        await this.trust.connect(this.authority).permitLicenseType(ISSUER_ID, LICENSE_TYPE, from, until);
        expect(await this.trust.mayIssue(ISSUER_ID, LICENSE_TYPE, from - 1n)).to.be.false;
        expect(await this.trust.mayIssue(ISSUER_ID, LICENSE_TYPE, from)).to.be.true;
        expect(await this.trust.mayIssue(ISSUER_ID, LICENSE_TYPE, until - 1n)).to.be.true;
        expect(await this.trust.mayIssue(ISSUER_ID, LICENSE_TYPE, until)).to.be.false;
        expect(await this.trust.mayIssue(ISSUER_ID, ethers.id("another type"), from)).to.be.false;
      });
    });

    describe("isAuthorityOfIssuer", function () {
      it("is true only for the authorities of the issuer's region", async function () {
        expect(await this.trust.isAuthorityOfIssuer(ISSUER_ID, this.authority.address)).to.be.true;
        expect(await this.trust.isAuthorityOfIssuer(ISSUER_ID, this.otherAuthority.address)).to.be.false;
        expect(await this.trust.isAuthorityOfIssuer(OTHER_ISSUER_ID, this.otherAuthority.address)).to.be.true;
        expect(await this.trust.isAuthorityOfIssuer(ISSUER_ID, this.key.address)).to.be.false;
        expect(await this.trust.isAuthorityOfIssuer(ISSUER_ID, this.admin.address)).to.be.false;
      });

      it("is false for an unknown issuer", async function () {
        expect(await this.trust.isAuthorityOfIssuer(UNKNOWN_ISSUER_ID, this.authority.address)).to.be.false;
        expect(await this.trust.isAuthorityOfIssuer(ethers.ZeroHash, this.authority.address)).to.be.false;
      });
    });

    describe("getKey", function () {
      it("returns the issuer and window of a key", async function () {
        expect(await this.trust.getKey(this.key.address)).to.deep.equal([ISSUER_ID, this.keyValidFrom, OPEN_END]);
        const key = await this.trust.getKey(this.otherKey.address);
        expect(key.issuerId).to.equal(OTHER_ISSUER_ID);
        expect(key.validFrom).to.equal(this.otherKeyValidFrom);
        expect(key.validUntil).to.equal(OPEN_END);
      });

      it("returns zeros for an unknown key", async function () {
        expect(await this.trust.getKey(this.stranger.address)).to.deep.equal([ethers.ZeroHash, 0n, 0n]);
      });
    });

    describe("getRotation", function () {
      it("returns zeros for an unknown key and a key never rotated nor retired", async function () {
        for (const key of [this.stranger, this.key, this.otherKey]) {
          expect(await this.trust.getRotation(key.address)).to.deep.equal([ethers.ZeroAddress, false, false]);
        }
      });

      it("returns the successor, bySelf and closed after a rotation by the key itself or by an authority", async function () {
        const [a, b] = [this.newKey, this.spareKey];
        await this.trust.connect(this.key).rotateKey(ISSUER_ID, this.key.address, a.address, accept(ISSUER_ID, a.address));
        await this.trust.connect(this.authority).rotateKey(ISSUER_ID, a.address, b.address, accept(ISSUER_ID, b.address));
        expect(await this.trust.getRotation(this.key.address)).to.deep.equal([a.address, true, true]);
        expect(await this.trust.getRotation(a.address)).to.deep.equal([b.address, false, true]);
        expect(await this.trust.getRotation(b.address)).to.deep.equal([ethers.ZeroAddress, false, false]);
      });

      it("a retired key is closed with no successor, whoever retired it", async function () {
        const from = BigInt(await time.latest());
        await this.trust.connect(this.authority).addKey(ISSUER_ID, this.spareKey.address, from, OPEN_END, accept(ISSUER_ID, this.spareKey.address));
        await this.trust.connect(this.key).retireKey(ISSUER_ID, this.key.address);
        await this.trust.connect(this.authority).retireKey(ISSUER_ID, this.spareKey.address);
        for (const key of [this.key, this.spareKey]) {
          expect(await this.trust.getRotation(key.address)).to.deep.equal([ethers.ZeroAddress, false, true]);
        }
      });

      it("a compromise declaration closes nothing (the key's window has ended instead), nor does voiding a successor", async function () {
        const stolenAt = BigInt(await time.latest());
        const t = await nextTimestamp(10n);
        await this.trust.connect(this.key).rotateKey(ISSUER_ID, this.key.address, this.newKey.address, accept(ISSUER_ID, this.newKey.address));
        await time.increase(10);
        await this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.key.address, stolenAt);
        expect(await this.trust.getKey(this.newKey.address)).to.deep.equal([ISSUER_ID, t, t]);
        // the rotation stays recorded; the voided successor is not closed, but has an empty window
        expect(await this.trust.getRotation(this.key.address)).to.deep.equal([this.newKey.address, true, true]);
        expect(await this.trust.getRotation(this.newKey.address)).to.deep.equal([ethers.ZeroAddress, false, false]);
        const ts = await nextTimestamp();
        await expect(this.trust.connect(this.authority).retireKey(ISSUER_ID, this.newKey.address))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyNotValid")
          .withArgs(ISSUER_ID, this.newKey.address, ts);
        // a key compromised without rotation is not closed either
        const from = BigInt(await time.latest());
        await this.trust.connect(this.authority).addKey(ISSUER_ID, this.spareKey.address, from, OPEN_END, accept(ISSUER_ID, this.spareKey.address));
        await time.increase(10);
        await this.trust.connect(this.authority).declareKeyCompromised(ISSUER_ID, this.spareKey.address, from + 1n);
        expect(await this.trust.getRotation(this.spareKey.address)).to.deep.equal([ethers.ZeroAddress, false, false]);
      });
    });

    describe("getIssuerState", function () {
      it("returns existence, activity and region", async function () {
        expect(await this.trust.getIssuerState(ISSUER_ID)).to.deep.equal([true, true, BigInt(REGION)]);
        expect(await this.trust.getIssuerState(OTHER_ISSUER_ID)).to.deep.equal([true, true, BigInt(OTHER_REGION)]);
        expect(await this.trust.getIssuerState(UNKNOWN_ISSUER_ID)).to.deep.equal([false, false, 0n]);
      });
    });

    describe("getIssuer", function () {
      it("returns the issuer's details", async function () {
        const issuer = await this.trust.getIssuer(ISSUER_ID);
        expect(issuer.exists).to.be.true;
        expect(issuer.active).to.be.true;
        expect(issuer.region).to.equal(BigInt(REGION));
        expect(issuer.profileHash).to.equal(PROFILE_HASH);
        expect(issuer.name).to.equal(ISSUER_NAME);
        expect(issuer.profileURI).to.equal(PROFILE_URI);
      });

      it("returns exists == false for an unknown issuer", async function () {
        expect(await this.trust.getIssuer(UNKNOWN_ISSUER_ID)).to.deep.equal([
          false,
          false,
          0n,
          ethers.ZeroHash,
          "",
          "",
        ]);
      });
    });

    describe("getRegion", function () {
      it("returns the region, or exists == false when unknown", async function () {
        expect(await this.trust.getRegion(REGION)).to.deep.equal([true, REGION_NAME]);
        const region = await this.trust.getRegion(OTHER_REGION);
        expect(region.exists).to.be.true;
        expect(region.name).to.equal("上海市");
        expect(await this.trust.getRegion(UNKNOWN_REGION)).to.deep.equal([false, ""]);
      });
    });

    describe("isRegionAuthority", function () {
      it("tells whether an account is an authority of a region", async function () {
        expect(await this.trust.isRegionAuthority(REGION, this.authority.address)).to.be.true;
        expect(await this.trust.isRegionAuthority(OTHER_REGION, this.authority.address)).to.be.false;
        expect(await this.trust.isRegionAuthority(OTHER_REGION, this.otherAuthority.address)).to.be.true;
        expect(await this.trust.isRegionAuthority(REGION, this.admin.address)).to.be.false;
        expect(await this.trust.isRegionAuthority(UNKNOWN_REGION, this.authority.address)).to.be.false;
      });
    });

    describe("getTypePermission", function () {
      it("returns the window, or zeros when never permitted", async function () {
        expect(await this.trust.getTypePermission(ISSUER_ID, LICENSE_TYPE)).to.deep.equal([0n, 0n]);
        await this.trust.connect(this.authority).permitLicenseType(ISSUER_ID, LICENSE_TYPE, 5n, 10n);
        const permission = await this.trust.getTypePermission(ISSUER_ID, LICENSE_TYPE);
        expect(permission.validFrom).to.equal(5n);
        expect(permission.validUntil).to.equal(10n);
        expect(await this.trust.getTypePermission(OTHER_ISSUER_ID, LICENSE_TYPE)).to.deep.equal([0n, 0n]);
      });
    });
  });
});
