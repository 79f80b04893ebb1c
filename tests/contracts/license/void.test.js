// LicenseRegistry: Voiding status changes made by a key outside its window.

const { ethers } = require("hardhat");
const { expect } = require("chai");
const { time } = require("@nomicfoundation/hardhat-network-helpers");

const {
  UNKNOWN_ISSUER_ID,
  MAX_BATCH_SIZE,
  licenseFixture,
  replacementOf,
  statusesOf,
  UNSET,
  setBy,
  expectStatuses,
} = require("../helpers/license");
const {
  OPEN_END,
  REGION,
  accept,
  ISSUER_ID,
  OTHER_ISSUER_ID,
  Status,
  txTimestamp,
  eventsOf,
  nextTimestamp,
  loadFixtureNow,
} = require("../helpers");

describe("LicenseRegistry", function () {
  beforeEach(async function () {
    Object.assign(this, await loadFixtureNow(licenseFixture));
  });

  // ----------------------------------------------------------------------------------------------
  // voidStatusChanges (undoing what a stolen key did)
  // ----------------------------------------------------------------------------------------------

  describe("voidStatusChanges", function () {
    /** The authority declares `key` (ctx.key by default) compromised from `at`, 10 s later. */
    async function declareCompromised(ctx, at, key = ctx.key) {
      await time.increase(10);
      await ctx.trust.connect(ctx.authority).declareKeyCompromised(ISSUER_ID, key.address, at);
    }

    /** A revocation of `digests` by the key at the next block (`delta` s on), voidable once the key
     * is declared compromised from its time; returns that time. */
    async function revokeByKey(ctx, digests, delta = 10n) {
      const at = await nextTimestamp(delta);
      await ctx.registry.connect(ctx.key).revoke(ISSUER_ID, digests, 1);
      return at;
    }

    it("makes licenses whose status a key set outside its (since shortened) window active again", async function () {
      const d = this.digests;
      const { key } = this;
      // the key suspends d0, revokes d1, supersedes d2, suspends then revokes d3, from `from` on
      const from = await nextTimestamp(10n);
      await this.registry.connect(key).suspend(ISSUER_ID, [d[0]], 1);
      await this.registry.connect(key).revoke(ISSUER_ID, [d[1]], 2);
      await this.registry.connect(key).supersede(ISSUER_ID, [d[2]], [replacementOf(d[2])], 3);
      await this.registry.connect(key).suspend(ISSUER_ID, [d[3]], 4);
      await this.registry.connect(key).revoke(ISSUER_ID, [d[3]], 5);
      // declared compromised from exactly the time of the first change
      await declareCompromised(this, from);

      const voided = [d[0], d[1], d[2], d[3]];
      const tx = this.registry.connect(this.authority).voidStatusChanges(ISSUER_ID, voided);
      await expect(tx).to.emit(this.registry, "StatusChangesVoided").withArgs(ISSUER_ID, this.authority.address, voided);
      expect(await eventsOf(this.registry, tx)).to.deep.equal([
        ["StatusChangesVoided", ISSUER_ID, this.authority.address, voided],
      ]);
      // Active, reason 0, set by the authority now, no replacement
      await expectStatuses(this, voided, Status.Active, 0, await setBy(this.authority, tx));
      await expectStatuses(this, [d[4]], Status.Active, 0, UNSET);
    });

    it("voids a status set at exactly compromisedAt, not one set the second before", async function () {
      const d = this.digests;
      const before = await revokeByKey(this, [d[0]]);
      const at = await revokeByKey(this, [d[1]], 1n);
      expect(at).to.equal(before + 1n);
      await declareCompromised(this, at);
      await expect(this.registry.connect(this.authority).voidStatusChanges(ISSUER_ID, [d[0]]))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryStatusNotVoidable")
        .withArgs(d[0]);
      await expect(this.registry.connect(this.authority).voidStatusChanges(ISSUER_ID, [d[1]]))
        .to.emit(this.registry, "StatusChangesVoided")
        .withArgs(ISSUER_ID, this.authority.address, [d[1]]);
      await expectStatuses(this, [d[0]], Status.Revoked, 1, { setBy: this.key.address, setAt: before });
    });

    it("voids the statuses set by the successor a stolen key rotated itself to", async function () {
      const thief = this.newKey;
      const stolenAt = BigInt(await time.latest());
      await time.increase(10);
      await this.trust.connect(this.key).rotateKey(ISSUER_ID, this.key.address, thief.address, accept(ISSUER_ID, thief.address));
      const tx = await this.registry.connect(thief).revoke(ISSUER_ID, this.digests, 7);
      await expectStatuses(this, this.digests, Status.Revoked, 7, await setBy(thief, tx));
      await declareCompromised(this, stolenAt);
      expect(await this.trust.isKeyValid(ISSUER_ID, thief.address, await txTimestamp(tx))).to.be.false;
      const voiding = this.registry.connect(this.authority).voidStatusChanges(ISSUER_ID, this.digests);
      await expect(voiding)
        .to.emit(this.registry, "StatusChangesVoided")
        .withArgs(ISSUER_ID, this.authority.address, this.digests);
      await expectStatuses(this, this.digests, Status.Active, 0, await setBy(this.authority, voiding));
    });

    it("refuses an active license: never changed, reinstated (even by the stolen key), or zero", async function () {
      const d = this.digests;
      await this.registry.connect(this.authority).suspend(ISSUER_ID, [d[1]], 1);
      const from = await nextTimestamp(10n);
      await this.registry.connect(this.key).reinstate(ISSUER_ID, [d[1]], 2);
      await declareCompromised(this, from);
      for (const digest of [d[0], d[1], ethers.id("never anchored"), ethers.ZeroHash]) {
        await expect(this.registry.connect(this.authority).voidStatusChanges(ISSUER_ID, [digest]))
          .to.be.revertedWithCustomError(this.registry, "LicenseRegistryStatusNotVoidable")
          .withArgs(digest);
      }
      await expectStatuses(this, [d[1]], Status.Active, 2, { setBy: this.key.address, setAt: from });
    });

    it("refuses a status set by an authority, even after the key's compromise time", async function () {
      const d = this.digests;
      const from = BigInt(await time.latest());
      await time.increase(10);
      const suspension = await this.registry.connect(this.authority).suspend(ISSUER_ID, [d[0]], 1);
      await this.registry.connect(this.authority).revoke(ISSUER_ID, [d[1]], 2);
      await this.registry.connect(this.authority).supersede(ISSUER_ID, [d[2]], [replacementOf(d[2])], 3);
      await declareCompromised(this, from);
      for (const digest of [d[0], d[1], d[2]]) {
        await expect(this.registry.connect(this.authority).voidStatusChanges(ISSUER_ID, [digest]))
          .to.be.revertedWithCustomError(this.registry, "LicenseRegistryStatusNotVoidable")
          .withArgs(digest);
      }
      await expectStatuses(this, [d[0]], Status.Suspended, 1, await setBy(this.authority, suspension));
    });

    // a key's status change stands when the key was valid when it made it
    const stillValid = {
      "a key still valid now": async () => {},
      "a key that rotated itself since": async (ctx) =>
        ctx.trust.connect(ctx.key).rotateKey(ISSUER_ID, ctx.key.address, ctx.newKey.address, accept(ISSUER_ID, ctx.newKey.address)),
      "a key retired since by the authority": async (ctx) =>
        ctx.trust.connect(ctx.authority).retireKey(ISSUER_ID, ctx.key.address),
      "a key declared compromised since, from a later time": async (ctx, setAt) =>
        declareCompromised(ctx, setAt + 1n),
    };
    for (const [description, after] of Object.entries(stillValid)) {
      it(`refuses a status set by ${description} (valid at setAt)`, async function () {
        const d = this.digests.slice(0, 2);
        const setAt = await revokeByKey(this, d);
        await time.increase(5);
        await after(this, setAt);
        expect(await this.trust.isKeyValid(ISSUER_ID, this.key.address, setAt)).to.be.true;
        await expect(this.registry.connect(this.authority).voidStatusChanges(ISSUER_ID, d))
          .to.be.revertedWithCustomError(this.registry, "LicenseRegistryStatusNotVoidable")
          .withArgs(d[0]);
        await expectStatuses(this, d, Status.Revoked, 1, { setBy: this.key.address, setAt });
      });
    }

    it("refuses a status set by a key whose finite window has since expired", async function () {
      // block times pinned: after the fixture's snapshot is restored, unpinned blocks follow the wall clock
      const now = await nextTimestamp();
      await this.trust.connect(this.authority).addKey(ISSUER_ID, this.spareKey.address, now, now + 20n, accept(ISSUER_ID, this.spareKey.address));
      await nextTimestamp();
      const tx = await this.registry.connect(this.spareKey).suspend(ISSUER_ID, [this.digests[0]], 1);
      await time.increase(30);
      await expect(this.registry.connect(this.authority).voidStatusChanges(ISSUER_ID, [this.digests[0]]))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryStatusNotVoidable")
        .withArgs(this.digests[0]);
      await expectStatuses(this, [this.digests[0]], Status.Suspended, 1, await setBy(this.spareKey, tx));
    });

    it("is all or nothing: the first digest that is not voidable reverts the call, changing nothing", async function () {
      const d = this.digests;
      const from = await revokeByKey(this, [d[0], d[1]]);
      const byAuthority = await this.registry.connect(this.authority).revoke(ISSUER_ID, [d[2]], 3);
      await declareCompromised(this, from);
      await expect(this.registry.connect(this.authority).voidStatusChanges(ISSUER_ID, [d[0], d[2], d[1], d[3]]))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryStatusNotVoidable")
        .withArgs(d[2]);
      await expectStatuses(this, [d[0], d[1]], Status.Revoked, 1, { setBy: this.key.address, setAt: from });
      await expectStatuses(this, [d[2]], Status.Revoked, 3, await setBy(this.authority, byAuthority));
      // a digest repeated in one call fails on its second occurrence
      await expect(this.registry.connect(this.authority).voidStatusChanges(ISSUER_ID, [d[0], d[1], d[0]]))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryStatusNotVoidable")
        .withArgs(d[0]);
      await expectStatuses(this, [d[0], d[1]], Status.Revoked, 1, { setBy: this.key.address, setAt: from });
    });

    it("a voided status cannot be voided again; the license's status can change again", async function () {
      const d = this.digests[0];
      const from = await revokeByKey(this, [d]);
      await declareCompromised(this, from);
      await this.registry.connect(this.authority).voidStatusChanges(ISSUER_ID, [d]);
      await expect(this.registry.connect(this.authority).voidStatusChanges(ISSUER_ID, [d]))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryStatusNotVoidable")
        .withArgs(d);
      // a new key of the issuer suspends it, the authority revokes it: ordinary changes, not voidable
      const now = BigInt(await time.latest());
      await this.trust.connect(this.authority).addKey(ISSUER_ID, this.spareKey.address, now, OPEN_END, accept(ISSUER_ID, this.spareKey.address));
      const suspension = await this.registry.connect(this.spareKey).suspend(ISSUER_ID, [d], 4);
      await expectStatuses(this, [d], Status.Suspended, 4, await setBy(this.spareKey, suspension));
      const revocation = await this.registry.connect(this.authority).revoke(ISSUER_ID, [d], 5);
      await expectStatuses(this, [d], Status.Revoked, 5, await setBy(this.authority, revocation));
      await expect(this.registry.connect(this.authority).voidStatusChanges(ISSUER_ID, [d]))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryStatusNotVoidable")
        .withArgs(d);
    });

    it("still works for an inactive issuer", async function () {
      const from = await revokeByKey(this, this.digests);
      await declareCompromised(this, from);
      await this.trust.connect(this.authority).setIssuerActive(ISSUER_ID, false);
      const tx = this.registry.connect(this.authority).voidStatusChanges(ISSUER_ID, this.digests);
      await expect(tx)
        .to.emit(this.registry, "StatusChangesVoided")
        .withArgs(ISSUER_ID, this.authority.address, this.digests);
      await expectStatuses(this, this.digests, Status.Active, 0, await setBy(this.authority, tx));
    });

    it("acts on the given issuer's statuses only, by that issuer's authorities only", async function () {
      const d = [this.digests[0]];
      const otherFrom = await nextTimestamp(10n);
      const otherRevocation = await this.registry.connect(this.otherKey).revoke(OTHER_ISSUER_ID, d, 8);
      const from = await revokeByKey(this, d);
      await declareCompromised(this, from);
      await this.registry.connect(this.authority).voidStatusChanges(ISSUER_ID, d);
      const otherSet = await setBy(this.otherKey, otherRevocation);
      await expectStatuses(this, d, Status.Revoked, 8, otherSet, undefined, OTHER_ISSUER_ID);
      // the other issuer's key, declared compromised by its own authority
      await time.increase(10);
      await this.trust
        .connect(this.otherAuthority)
        .declareKeyCompromised(OTHER_ISSUER_ID, this.otherKey.address, otherFrom);
      await expect(this.registry.connect(this.authority).voidStatusChanges(OTHER_ISSUER_ID, d))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryNotAuthority")
        .withArgs(OTHER_ISSUER_ID, this.authority.address);
      const tx = this.registry.connect(this.otherAuthority).voidStatusChanges(OTHER_ISSUER_ID, d);
      await expect(tx)
        .to.emit(this.registry, "StatusChangesVoided")
        .withArgs(OTHER_ISSUER_ID, this.otherAuthority.address, d);
      await expectStatuses(this, d, Status.Active, 0, await setBy(this.otherAuthority, tx), undefined, OTHER_ISSUER_ID);
    });

    describe("access (authorities of the issuer's region only)", function () {
      beforeEach(async function () {
        const from = await revokeByKey(this, this.digests);
        await declareCompromised(this, from);
      });

      const refused = {
        stranger: "a stranger",
        key: "the compromised key itself",
        newKey: "a valid key of the issuer",
        otherKey: "a valid key of another issuer",
        otherAuthority: "an authority of a different region",
        admin: "the federation admin",
      };
      for (const [who, description] of Object.entries(refused)) {
        it(`reverts with LicenseRegistryNotAuthority for ${description}`, async function () {
          if (who === "newKey") {
            const now = BigInt(await time.latest());
            await this.trust.connect(this.authority).addKey(ISSUER_ID, this.newKey.address, now, OPEN_END, accept(ISSUER_ID, this.newKey.address));
          }
          const before = await statusesOf(this, this.digests);
          await expect(this.registry.connect(this[who]).voidStatusChanges(ISSUER_ID, this.digests))
            .to.be.revertedWithCustomError(this.registry, "LicenseRegistryNotAuthority")
            .withArgs(ISSUER_ID, this[who].address);
          expect(await statusesOf(this, this.digests)).to.deep.equal(before);
        });
      }

      it("reverts for a removed authority", async function () {
        await this.trust.connect(this.admin).removeRegionAuthority(REGION, this.authority.address);
        await expect(this.registry.connect(this.authority).voidStatusChanges(ISSUER_ID, this.digests))
          .to.be.revertedWithCustomError(this.registry, "LicenseRegistryNotAuthority")
          .withArgs(ISSUER_ID, this.authority.address);
      });

      it("reverts with LicenseRegistryUnknownIssuer for an unknown issuer, whoever calls", async function () {
        for (const caller of [this.authority, this.stranger]) {
          await expect(this.registry.connect(caller).voidStatusChanges(UNKNOWN_ISSUER_ID, this.digests))
            .to.be.revertedWithCustomError(this.registry, "LicenseRegistryUnknownIssuer")
            .withArgs(UNKNOWN_ISSUER_ID);
        }
      });

      it("reverts with LicenseRegistryEmptyBatch for an empty list, whoever calls", async function () {
        for (const caller of [this.authority, this.stranger]) {
          await expect(
            this.registry.connect(caller).voidStatusChanges(ISSUER_ID, []),
          ).to.be.revertedWithCustomError(this.registry, "LicenseRegistryEmptyBatch");
        }
      });

      it(`reverts with LicenseRegistryBatchTooLarge for more than ${MAX_BATCH_SIZE} digests`, async function () {
        const digests = Array(MAX_BATCH_SIZE + 1).fill(this.digests[0]);
        await expect(this.registry.connect(this.authority).voidStatusChanges(ISSUER_ID, digests))
          .to.be.revertedWithCustomError(this.registry, "LicenseRegistryBatchTooLarge")
          .withArgs(MAX_BATCH_SIZE + 1, MAX_BATCH_SIZE);
      });

      it("succeeds for an authority added since", async function () {
        await this.trust.connect(this.admin).addRegionAuthority(REGION, this.stranger.address);
        await expect(this.registry.connect(this.stranger).voidStatusChanges(ISSUER_ID, this.digests))
          .to.emit(this.registry, "StatusChangesVoided")
          .withArgs(ISSUER_ID, this.stranger.address, this.digests);
      });
    });
  });
});
