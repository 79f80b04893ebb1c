// TrustRegistry: Issuers: registration in the region of the credit code's division (and the federation's
// exceptions), profiles, activation.

const { ethers } = require("hardhat");
const { expect } = require("chai");
const { time } = require("@nomicfoundation/hardhat-network-helpers");

const {
  NEW_ISSUER_ID,
  UNKNOWN_REGION,
  shouldOnlyAllowRegionAuthority,
  shouldOnlyAllowFederationAdmin,
} = require("../helpers/trust");
const {
  REGION,
  OTHER_REGION,
  usccId,
  makeUscc,
  ISSUER_ID,
  ISSUER_NAME,
  PROFILE_HASH,
  PROFILE_URI,
  OTHER_ISSUER_ID,
  deployFixture,
  loadFixtureNow,
} = require("../helpers");

describe("TrustRegistry", function () {
  beforeEach(async function () {
    Object.assign(this, await loadFixtureNow(deployFixture));
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
});
