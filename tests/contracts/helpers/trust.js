// Shared constants and behaviours of the TrustRegistry tests (tests/contracts/trust/): the access
// rules every state-changing function is checked against.

const { ethers } = require("hardhat");
const { expect } = require("chai");
const { time } = require("@nomicfoundation/hardhat-network-helpers");

const {
  OPEN_END,
  REGION,
  usccId,
  accept,
  ISSUER_ID,
  OTHER_ISSUER_ID,
  INVALID_KEY_KINDS,
  makeInvalidKey,
} = require("./index");

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

module.exports = {
  UNKNOWN_ISSUER_ID,
  NEW_ISSUER_ID,
  UNKNOWN_REGION,
  shouldOnlyAllowRegionAuthority,
  shouldOnlyAllowKeyItselfOrAuthority,
  shouldOnlyAllowFederationAdmin,
};
