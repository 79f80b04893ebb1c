// TrustRegistry: The trust registry's views.

const { ethers } = require("hardhat");
const { expect } = require("chai");
const { time } = require("@nomicfoundation/hardhat-network-helpers");

const { UNKNOWN_ISSUER_ID, UNKNOWN_REGION } = require("../helpers/trust");
const {
  OPEN_END,
  REGION,
  REGION_NAME,
  OTHER_REGION,
  accept,
  ISSUER_ID,
  ISSUER_NAME,
  PROFILE_HASH,
  PROFILE_URI,
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
