// LicenseRegistry: License status changes (suspend, reinstate, revoke, supersede).

const { ethers } = require("hardhat");
const { expect } = require("chai");
const { time } = require("@nomicfoundation/hardhat-network-helpers");

const {
  licenseFixture,
  replacementOf,
  enumName,
  OPERATIONS,
  UNSET,
  setBy,
  expectStatuses,
  shouldBehaveLikeStatusChange,
} = require("../helpers/license");
const { ISSUER_ID, OTHER_ISSUER_ID, Status, txTimestamp, loadFixtureNow } = require("../helpers");

describe("LicenseRegistry", function () {
  beforeEach(async function () {
    Object.assign(this, await loadFixtureNow(licenseFixture));
  });

  describe("getStatus", function () {
    it("is Active with no reason, no setter, no time and no replacement by default", async function () {
      await expectStatuses(this, this.digests, Status.Active, 0, UNSET);
      await expectStatuses(this, [ethers.id("never anchored")], Status.Active, 0, UNSET);
      await expectStatuses(this, this.digests, Status.Active, 0, UNSET, undefined, OTHER_ISSUER_ID);
    });

    it("names its fields status, reason, setBy, setAt and replacement", async function () {
      const d = this.digests[0];
      const tx = this.registry.connect(this.key).supersede(ISSUER_ID, [d], [replacementOf(d)], 6);
      const { setAt } = await setBy(this.key, tx);
      const status = await this.registry.getStatus(ISSUER_ID, d);
      expect(status.status).to.equal(Status.Superseded);
      expect(status.reason).to.equal(6n);
      expect(status.setBy).to.equal(this.key.address);
      expect(status.setAt).to.equal(setAt);
      expect(status.replacement).to.equal(replacementOf(d));
    });
  });

  // ----------------------------------------------------------------------------------------------
  // Status changes
  // ----------------------------------------------------------------------------------------------

  describe("suspend", function () {
    it("suspends active licenses, emitting LicensesSuspended", async function () {
      const tx = this.registry.connect(this.key).suspend(ISSUER_ID, this.digests, 7);
      await expect(tx).to.emit(this.registry, "LicensesSuspended").withArgs(ISSUER_ID, this.key.address, 7, this.digests);
      await expectStatuses(this, this.digests, Status.Suspended, 7, await setBy(this.key, tx));
    });

    it("records the maximum reason code", async function () {
      const tx = this.registry.connect(this.authority).suspend(ISSUER_ID, this.digests.slice(0, 1), 65535);
      await expectStatuses(this, this.digests.slice(0, 1), Status.Suspended, 65535, await setBy(this.authority, tx));
    });

    shouldBehaveLikeStatusChange("suspend");
  });

  describe("reinstate", function () {
    it("makes suspended licenses active again, emitting LicensesReinstated", async function () {
      await this.registry.connect(this.key).suspend(ISSUER_ID, this.digests, 7);
      await time.increase(10);
      const tx = this.registry.connect(this.authority).reinstate(ISSUER_ID, this.digests, 8);
      await expect(tx)
        .to.emit(this.registry, "LicensesReinstated")
        .withArgs(ISSUER_ID, this.authority.address, 8, this.digests);
      // the reinstatement is the status's last change: its setter and time replace the suspension's
      await expectStatuses(this, this.digests, Status.Active, 8, await setBy(this.authority, tx));
    });

    it("allows Active -> Suspended -> Active repeatedly", async function () {
      const d = this.digests.slice(0, 2);
      for (let i = 0; i < 3; ++i) {
        const suspension = await this.registry.connect(this.key).suspend(ISSUER_ID, d, 1);
        await expectStatuses(this, d, Status.Suspended, 1, await setBy(this.key, suspension));
        const reinstatement = await this.registry.connect(this.authority).reinstate(ISSUER_ID, d, 2);
        await expectStatuses(this, d, Status.Active, 2, await setBy(this.authority, reinstatement));
      }
    });

    shouldBehaveLikeStatusChange("reinstate");
  });

  describe("revoke", function () {
    it("revokes active licenses, emitting LicensesRevoked", async function () {
      const tx = this.registry.connect(this.key).revoke(ISSUER_ID, this.digests, 3);
      await expect(tx).to.emit(this.registry, "LicensesRevoked").withArgs(ISSUER_ID, this.key.address, 3, this.digests);
      await expectStatuses(this, this.digests, Status.Revoked, 3, await setBy(this.key, tx));
    });

    it("revokes suspended licenses", async function () {
      await this.registry.connect(this.key).suspend(ISSUER_ID, this.digests.slice(0, 2), 1);
      const tx = this.registry.connect(this.authority).revoke(ISSUER_ID, this.digests, 4);
      await expect(tx)
        .to.emit(this.registry, "LicensesRevoked")
        .withArgs(ISSUER_ID, this.authority.address, 4, this.digests);
      await expectStatuses(this, this.digests, Status.Revoked, 4, await setBy(this.authority, tx));
    });

    shouldBehaveLikeStatusChange("revoke");
  });

  describe("supersede", function () {
    it("supersedes active and suspended licenses, emitting LicensesSuperseded", async function () {
      const replacements = this.digests.map(replacementOf);
      await this.registry.connect(this.key).suspend(ISSUER_ID, this.digests.slice(0, 2), 1);
      const tx = this.registry.connect(this.key).supersede(ISSUER_ID, this.digests, replacements, 5);
      await expect(tx)
        .to.emit(this.registry, "LicensesSuperseded")
        .withArgs(ISSUER_ID, this.key.address, 5, this.digests, replacements);
      await expectStatuses(this, this.digests, Status.Superseded, 5, await setBy(this.key, tx), replacements);
    });

    it("reverts with LicenseRegistryLengthMismatch", async function () {
      const replacements = this.digests.map(replacementOf);
      await expect(this.registry.connect(this.key).supersede(ISSUER_ID, this.digests.slice(0, 2), replacements.slice(0, 1), 5))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryLengthMismatch")
        .withArgs(2, 1);
      await expect(this.registry.connect(this.key).supersede(ISSUER_ID, this.digests.slice(0, 1), replacements.slice(0, 2), 5))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryLengthMismatch")
        .withArgs(1, 2);
      await expect(this.registry.connect(this.key).supersede(ISSUER_ID, [], replacements.slice(0, 1), 5))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryLengthMismatch")
        .withArgs(0, 1);
    });

    it("reverts with LicenseRegistryEmptyBatch for two empty lists", async function () {
      await expect(
        this.registry.connect(this.key).supersede(ISSUER_ID, [], [], 5),
      ).to.be.revertedWithCustomError(this.registry, "LicenseRegistryEmptyBatch");
    });

    it("reverts with LicenseRegistryInvalidReplacement for a zero replacement or the digest itself, changing nothing", async function () {
      const d = this.digests;
      for (const [bad, replacement] of [
        [d[2], ethers.ZeroHash],
        [d[2], d[2]],
      ]) {
        const replacements = d.map(replacementOf);
        replacements[2] = replacement;
        await expect(this.registry.connect(this.key).supersede(ISSUER_ID, d, replacements, 5))
          .to.be.revertedWithCustomError(this.registry, "LicenseRegistryInvalidReplacement")
          .withArgs(bad, replacement);
        await expectStatuses(this, d, Status.Active, 0, UNSET);
      }
    });

    shouldBehaveLikeStatusChange("supersede");
  });

  describe("transitions", function () {
    // status the digest is brought into first, by a sequence of operations
    const setups = {
      Active: [],
      Suspended: ["suspend"],
      Revoked: ["revoke"],
      Superseded: ["supersede"],
      "Revoked (from Suspended)": ["suspend", "revoke"],
      "Superseded (from Suspended)": ["suspend", "supersede"],
      "Active (reinstated)": ["suspend", "reinstate"],
    };
    const expected = {
      Active: { suspend: "Suspended", reinstate: ["InvalidTransition", "Active"], revoke: "Revoked", supersede: "Superseded" },
      Suspended: { suspend: ["InvalidTransition", "Suspended"], reinstate: "Active", revoke: "Revoked", supersede: "Superseded" },
      Revoked: { suspend: ["StatusFinal"], reinstate: ["StatusFinal"], revoke: ["StatusFinal"], supersede: ["StatusFinal"] },
      Superseded: { suspend: ["StatusFinal"], reinstate: ["StatusFinal"], revoke: ["StatusFinal"], supersede: ["StatusFinal"] },
    };

    for (const [setupName, steps] of Object.entries(setups)) {
      const from = setupName.split(" ")[0];
      for (const [opName, outcome] of Object.entries(expected[from])) {
        const title = typeof outcome === "string" ? `allows ${setupName} -> ${outcome} (${opName})` : `refuses ${opName} of ${setupName} with ${outcome[0]}`;
        it(title, async function () {
          const d = this.digests[0];
          for (const step of steps) await OPERATIONS[step].send(this, this.key, ISSUER_ID, [d], 1);
          const before = await this.registry.getStatus(ISSUER_ID, d);
          expect(before.status).to.equal(Status[from]);
          const op = OPERATIONS[opName];
          const call = op.send(this, this.authority, ISSUER_ID, [d], 9);
          if (typeof outcome === "string") {
            await expect(call).to.emit(this.registry, op.event);
            expect(await this.registry.getStatus(ISSUER_ID, d)).to.deep.equal([
              Status[outcome],
              9n,
              this.authority.address,
              await txTimestamp(await call),
              opName === "supersede" ? replacementOf(d) : ethers.ZeroHash,
            ]);
            expect(op.to).to.equal(Status[outcome]);
          } else if (outcome[0] === "StatusFinal") {
            await expect(call)
              .to.be.revertedWithCustomError(this.registry, "LicenseRegistryStatusFinal")
              .withArgs(d, Status[from]);
            expect(await this.registry.getStatus(ISSUER_ID, d)).to.deep.equal(before);
          } else {
            await expect(call)
              .to.be.revertedWithCustomError(this.registry, "LicenseRegistryInvalidTransition")
              .withArgs(d, Status[from], op.to);
            expect(await this.registry.getStatus(ISSUER_ID, d)).to.deep.equal(before);
            expect(enumName(op.to)).to.equal(outcome[1]);
          }
        });
      }
    }
  });

  describe("atomicity", function () {
    it("a revoke failing on the last digest leaves no digest changed", async function () {
      const d = this.digests;
      const revocation = await this.registry.connect(this.key).revoke(ISSUER_ID, [d[4]], 1);
      await expect(this.registry.connect(this.key).revoke(ISSUER_ID, d, 2))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryStatusFinal")
        .withArgs(d[4], Status.Revoked);
      await expectStatuses(this, d.slice(0, 4), Status.Active, 0, UNSET);
      await expectStatuses(this, [d[4]], Status.Revoked, 1, await setBy(this.key, revocation));
    });

    it("a suspend failing on a suspended digest leaves no digest changed", async function () {
      const d = this.digests;
      const suspension = await this.registry.connect(this.key).suspend(ISSUER_ID, [d[3]], 1);
      await expect(this.registry.connect(this.key).suspend(ISSUER_ID, d, 2))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryInvalidTransition")
        .withArgs(d[3], Status.Suspended, Status.Suspended);
      await expectStatuses(this, [d[0], d[1], d[2], d[4]], Status.Active, 0, UNSET);
      await expectStatuses(this, [d[3]], Status.Suspended, 1, await setBy(this.key, suspension));
    });

    it("a reinstate failing on an active digest leaves no digest changed", async function () {
      const d = this.digests;
      const suspension = await this.registry.connect(this.key).suspend(ISSUER_ID, d.slice(0, 3), 1);
      await expect(this.registry.connect(this.key).reinstate(ISSUER_ID, d, 2))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryInvalidTransition")
        .withArgs(d[3], Status.Active, Status.Active);
      await expectStatuses(this, d.slice(0, 3), Status.Suspended, 1, await setBy(this.key, suspension));
    });

    it("a digest repeated in one call fails on its second occurrence and changes nothing", async function () {
      const d = this.digests;
      await expect(this.registry.connect(this.key).revoke(ISSUER_ID, [d[0], d[1], d[0]], 2))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryStatusFinal")
        .withArgs(d[0], Status.Revoked);
      await expect(this.registry.connect(this.key).suspend(ISSUER_ID, [d[0], d[0]], 2))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryInvalidTransition")
        .withArgs(d[0], Status.Suspended, Status.Suspended);
      await expectStatuses(this, d, Status.Active, 0, UNSET);
    });

    it("a supersede failing on a superseded digest leaves no digest or replacement changed", async function () {
      const d = this.digests;
      const supersession = await this.registry.connect(this.key).supersede(ISSUER_ID, [d[1]], [replacementOf(d[1])], 1);
      await expect(this.registry.connect(this.key).supersede(ISSUER_ID, d, d.map((x) => ethers.id(x)), 2))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryStatusFinal")
        .withArgs(d[1], Status.Superseded);
      await expectStatuses(this, [d[0], d[2], d[3], d[4]], Status.Active, 0, UNSET);
      await expectStatuses(this, [d[1]], Status.Superseded, 1, await setBy(this.key, supersession), [replacementOf(d[1])]);
    });
  });
});
