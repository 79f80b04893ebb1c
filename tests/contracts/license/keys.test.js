// LicenseRegistry: What a stolen, rotated or retired key can still do to licenses.

const { ethers } = require("hardhat");
const { expect } = require("chai");
const { time } = require("@nomicfoundation/hardhat-network-helpers");

const { licenseFixture, setBy, expectStatuses, sign, issue, check } = require("../helpers/license");
const {
  OPEN_END,
  accept,
  ISSUER_ID,
  Status,
  makeBatch,
  eventsOf,
  nextTimestamp,
  inOneBlock,
  outcomeOf,
  loadFixtureNow,
} = require("../helpers");

describe("LicenseRegistry", function () {
  beforeEach(async function () {
    Object.assign(this, await loadFixtureNow(licenseFixture));
  });

  // ----------------------------------------------------------------------------------------------
  // A stolen key, end to end
  // ----------------------------------------------------------------------------------------------

  describe("a stolen key", function () {
    it("its revocation after the compromise time is voided, the license valid again; an earlier one stands", async function () {
      // the key anchors a batch of signed licenses
      const batch = await issue(this, 3, this.key);
      const [a, b] = batch.licenses;
      // a routine revocation by the key, before the theft
      await time.increase(10);
      const routine = await this.registry.connect(this.key).revoke(ISSUER_ID, [a.digest], 1);
      const routineBy = await setBy(this.key, routine);
      // the key is stolen at `stolenAt`; the thief revokes b
      await time.increase(10);
      const stolenAt = BigInt(await time.latest());
      await time.increase(10);
      await this.registry.connect(this.key).revoke(ISSUER_ID, [b.digest], 2);
      expect((await check(this, b, batch.root)).status).to.equal(Status.Revoked);

      // the authority declares the key compromised from `stolenAt`, before the thief's revocation ...
      await time.increase(10);
      const declaration = this.trust
        .connect(this.authority)
        .declareKeyCompromised(ISSUER_ID, this.key.address, stolenAt);
      expect(await eventsOf(this.trust, declaration)).to.deep.equal([
        ["KeyCompromised", ISSUER_ID, this.key.address, stolenAt],
      ]);
      // ... and voids the revocation
      const tx = this.registry.connect(this.authority).voidStatusChanges(ISSUER_ID, [b.digest]);
      expect(await eventsOf(this.registry, tx)).to.deep.equal([
        ["StatusChangesVoided", ISSUER_ID, this.authority.address, [b.digest]],
      ]);
      await expectStatuses(this, [b.digest], Status.Active, 0, await setBy(this.authority, tx));
      // the license is active, anchored by a key valid then: valid again
      expect(await check(this, b, batch.root)).to.deep.equal([
        true,
        this.key.address,
        ISSUER_ID,
        true,
        batch.timestamp,
        Status.Active,
      ]);

      // the revocation the key made before the compromise time is not voidable, and stands
      await expect(this.registry.connect(this.authority).voidStatusChanges(ISSUER_ID, [a.digest]))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryStatusNotVoidable")
        .withArgs(a.digest);
      await expectStatuses(this, [a.digest], Status.Revoked, 1, routineBy);
      expect((await check(this, a, batch.root)).status).to.equal(Status.Revoked);
    });

    it("nothing the thief's own key did survives the declaration", async function () {
      const thief = this.newKey;
      const batch = await issue(this, 2, this.key);
      const [a] = batch.licenses;
      await time.increase(10);
      const stolenAt = BigInt(await time.latest());
      expect(stolenAt).to.be.greaterThan(batch.timestamp);
      await time.increase(10);
      // the thief rotates the stolen key to their own key, revokes a license, and anchors a forgery
      const rotatedAt = await nextTimestamp();
      await expect(this.trust.connect(this.key).rotateKey(ISSUER_ID, this.key.address, thief.address, accept(ISSUER_ID, thief.address)))
        .to.emit(this.trust, "KeyRotated")
        .withArgs(ISSUER_ID, this.key.address, thief.address, true);
      await this.registry.connect(thief).revoke(ISSUER_ID, [a.digest], 9);
      const forged = await issue(this, 1, thief, thief, "F");
      expect(await check(this, forged.licenses[0], forged.root)).to.deep.equal([
        true,
        thief.address,
        ISSUER_ID,
        true,
        forged.timestamp,
        Status.Active,
      ]);

      await time.increase(10);
      const declaration = this.trust
        .connect(this.authority)
        .declareKeyCompromised(ISSUER_ID, this.key.address, stolenAt);
      expect(await eventsOf(this.trust, declaration)).to.deep.equal([
        ["KeyCompromised", ISSUER_ID, this.key.address, stolenAt],
        ["KeyCompromised", ISSUER_ID, thief.address, rotatedAt],
      ]);
      // the forgery no longer checks out; the thief's key can neither anchor nor change statuses
      expect((await check(this, forged.licenses[0], forged.root)).keyValidAtAnchor).to.be.false;
      const more = makeBatch(2, "more forgeries");
      const ts = await nextTimestamp();
      await expect(this.registry.connect(thief).anchor(more.root, more.digests))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryKeyNotValid")
        .withArgs(ISSUER_ID, thief.address, ts);
      await expect(this.registry.connect(thief).revoke(ISSUER_ID, [batch.licenses[1].digest], 9))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryNotIssuerOrAuthority")
        .withArgs(ISSUER_ID, thief.address);
      // the thief's revocation is voided; the license anchored before the theft is valid again
      await this.registry.connect(this.authority).voidStatusChanges(ISSUER_ID, [a.digest]);
      expect(await check(this, a, batch.root)).to.deep.equal([
        true,
        this.key.address,
        ISSUER_ID,
        true,
        batch.timestamp,
        Status.Active,
      ]);
    });

    it("a thief's two rotations in one block (K -> A -> B) and what B did then are undone by one declaration", async function () {
      const [a, b] = [this.newKey, this.spareKey];
      const batch = await issue(this, 2, this.key);
      const [victim, other] = batch.licenses;
      await time.increase(10);
      const stolenAt = BigInt(await time.latest());
      // in one block at t: K -> A, A -> B, and B anchors a forgery and revokes a license
      const forged = await sign(this, 1, b, "F");
      const t = stolenAt + 10n;
      const { responses, receipts } = await inOneBlock(
        [
          (o) => this.trust.connect(this.key).rotateKey(ISSUER_ID, this.key.address, a.address, accept(ISSUER_ID, a.address), o),
          (o) => this.trust.connect(a).rotateKey(ISSUER_ID, a.address, b.address, accept(ISSUER_ID, b.address), o),
          (o) => this.registry.connect(b).anchor(forged.root, forged.digests, o),
          (o) => this.registry.connect(b).revoke(ISSUER_ID, [victim.digest], 9, o),
        ],
        t,
      );
      expect(receipts.map((r) => r.status)).to.deep.equal([1, 1, 1, 1]);
      await expect(responses[0]).to.emit(this.trust, "KeyRotated").withArgs(ISSUER_ID, this.key.address, a.address, true);
      await expect(responses[1]).to.emit(this.trust, "KeyRotated").withArgs(ISSUER_ID, a.address, b.address, true);
      await expect(responses[2])
        .to.emit(this.registry, "BatchAnchored")
        .withArgs(forged.root, ISSUER_ID, b.address, forged.digests);
      await expect(responses[3]).to.emit(this.registry, "LicensesRevoked").withArgs(ISSUER_ID, b.address, 9, [victim.digest]);
      expect(await check(this, forged.licenses[0], forged.root)).to.deep.equal([
        true,
        b.address,
        ISSUER_ID,
        true,
        t,
        Status.Active,
      ]);
      await expectStatuses(this, [victim.digest], Status.Revoked, 9, { setBy: b.address, setAt: t });

      await time.increase(10);
      const declaration = this.trust
        .connect(this.authority)
        .declareKeyCompromised(ISSUER_ID, this.key.address, stolenAt);
      expect(await eventsOf(this.trust, declaration)).to.deep.equal([
        ["KeyCompromised", ISSUER_ID, this.key.address, stolenAt],
        ["KeyCompromised", ISSUER_ID, a.address, t],
        ["KeyCompromised", ISSUER_ID, b.address, t],
      ]);
      // the forgery no longer checks out; B can neither anchor nor change statuses any more
      expect(await check(this, forged.licenses[0], forged.root)).to.deep.equal([
        true,
        b.address,
        ISSUER_ID,
        false,
        t,
        Status.Active,
      ]);
      const more = makeBatch(2, "more forgeries by B");
      const ts = await nextTimestamp();
      await expect(this.registry.connect(b).anchor(more.root, more.digests))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryKeyNotValid")
        .withArgs(ISSUER_ID, b.address, ts);
      await expect(this.registry.connect(b).revoke(ISSUER_ID, [other.digest], 9))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryNotIssuerOrAuthority")
        .withArgs(ISSUER_ID, b.address);
      // B's revocation is voided: the license is valid and active again
      const voiding = this.registry.connect(this.authority).voidStatusChanges(ISSUER_ID, [victim.digest]);
      await expect(voiding)
        .to.emit(this.registry, "StatusChangesVoided")
        .withArgs(ISSUER_ID, this.authority.address, [victim.digest]);
      await expectStatuses(this, [victim.digest], Status.Active, 0, await setBy(this.authority, voiding));
      expect(await check(this, victim, batch.root)).to.deep.equal([
        true,
        this.key.address,
        ISSUER_ID,
        true,
        batch.timestamp,
        Status.Active,
      ]);
    });
  });

  // ----------------------------------------------------------------------------------------------
  // What a key does in the second its window ends (rotation, retirement) counts
  // ----------------------------------------------------------------------------------------------

  describe("the last second of a rotated or retired key", function () {
    const ENDINGS = {
      "the key rotates itself": {
        send: (ctx, o) => ctx.trust.connect(ctx.key).rotateKey(ISSUER_ID, ctx.key.address, ctx.newKey.address, accept(ISSUER_ID, ctx.newKey.address), o),
        events: (ctx, t) => [
          ["KeyRetired", ISSUER_ID, ctx.key.address, t + 1n],
          ["KeyAdded", ISSUER_ID, ctx.newKey.address, t, OPEN_END],
          ["KeyRotated", ISSUER_ID, ctx.key.address, ctx.newKey.address, true],
        ],
        successor: "self",
      },
      "an authority rotates it": {
        send: (ctx, o) =>
          ctx.trust.connect(ctx.authority).rotateKey(ISSUER_ID, ctx.key.address, ctx.newKey.address, accept(ISSUER_ID, ctx.newKey.address), o),
        events: (ctx, t) => [
          ["KeyRetired", ISSUER_ID, ctx.key.address, t + 1n],
          ["KeyAdded", ISSUER_ID, ctx.newKey.address, t, OPEN_END],
          ["KeyRotated", ISSUER_ID, ctx.key.address, ctx.newKey.address, false],
        ],
        successor: "authority",
      },
      "the key retires itself": {
        send: (ctx, o) => ctx.trust.connect(ctx.key).retireKey(ISSUER_ID, ctx.key.address, o),
        events: (ctx, t) => [["KeyRetired", ISSUER_ID, ctx.key.address, t + 1n]],
      },
      "an authority retires it": {
        send: (ctx, o) => ctx.trust.connect(ctx.authority).retireKey(ISSUER_ID, ctx.key.address, o),
        events: (ctx, t) => [["KeyRetired", ISSUER_ID, ctx.key.address, t + 1n]],
      },
    };

    for (const [description, ending] of Object.entries(ENDINGS)) {
      it(`a key anchors and revokes, then ${description}, in one block: its batch stays valid, its revocation stands`, async function () {
        const { key, authority } = this;
        const signed = await sign(this, 2, key, "S");
        const d = this.digests[0];
        const t = await nextTimestamp(10n);
        const { responses, receipts, timestamp } = await inOneBlock([
          (o) => this.registry.connect(key).anchor(signed.root, signed.digests, o),
          (o) => this.registry.connect(key).revoke(ISSUER_ID, [d], 4, o),
          (o) => ending.send(this, o),
        ]);
        expect(timestamp).to.equal(t);
        expect(receipts.map((r) => r.status)).to.deep.equal([1, 1, 1]);
        await expect(responses[0])
          .to.emit(this.registry, "BatchAnchored")
          .withArgs(signed.root, ISSUER_ID, key.address, signed.digests);
        await expect(responses[1]).to.emit(this.registry, "LicensesRevoked").withArgs(ISSUER_ID, key.address, 4, [d]);
        await expect(responses[2]).to.emit(this.trust, "KeyRetired").withArgs(ISSUER_ID, key.address, t + 1n);
        if (ending.successor !== undefined) {
          await expect(responses[2])
            .to.emit(this.trust, "KeyRotated")
            .withArgs(ISSUER_ID, key.address, this.newKey.address, ending.successor === "self");
        }
        expect(await eventsOf(this.trust, responses[2])).to.deep.equal(ending.events(this, t));
        expect(await this.trust.getKey(key.address)).to.deep.equal([ISSUER_ID, this.keyValidFrom, t + 1n]);

        // the batch was anchored at t by a key valid at t
        for (const license of signed.licenses) {
          expect(await check(this, license, signed.root)).to.deep.equal([
            true,
            key.address,
            ISSUER_ID,
            true,
            t,
            Status.Active,
          ]);
        }
        // the revocation was made at t by a key valid at t: it stands
        await expectStatuses(this, [d], Status.Revoked, 4, { setBy: key.address, setAt: t });
        await time.increase(10);
        await expect(this.registry.connect(authority).voidStatusChanges(ISSUER_ID, [d]))
          .to.be.revertedWithCustomError(this.registry, "LicenseRegistryStatusNotVoidable")
          .withArgs(d);
        // no compromise can be declared from a later time: the window ends after t
        await expect(this.trust.connect(authority).declareKeyCompromised(ISSUER_ID, key.address, t + 1n))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryCompromiseTimeOutOfRange")
          .withArgs(key.address, t + 1n, this.keyValidFrom, t + 1n);
        await expect(this.registry.connect(authority).voidStatusChanges(ISSUER_ID, [d]))
          .to.be.revertedWithCustomError(this.registry, "LicenseRegistryStatusNotVoidable")
          .withArgs(d);

        // a compromise from t itself (the latest time accepted) takes that second's actions with it
        const declaration = this.trust.connect(authority).declareKeyCompromised(ISSUER_ID, key.address, t);
        expect(await eventsOf(this.trust, declaration)).to.deep.equal([
          ["KeyCompromised", ISSUER_ID, key.address, t],
          ...(ending.successor === "self" ? [["KeyCompromised", ISSUER_ID, this.newKey.address, t]] : []),
        ]);
        expect((await check(this, signed.licenses[0], signed.root)).keyValidAtAnchor).to.be.false;
        const voiding = this.registry.connect(authority).voidStatusChanges(ISSUER_ID, [d]);
        await expect(voiding).to.emit(this.registry, "StatusChangesVoided").withArgs(ISSUER_ID, authority.address, [d]);
        await expectStatuses(this, [d], Status.Active, 0, await setBy(authority, voiding));
        if (ending.successor !== undefined) {
          // the successor of a self-rotation is voided; one the authority created stands
          const expected = ending.successor === "self" ? [ISSUER_ID, t, t] : [ISSUER_ID, t, OPEN_END];
          expect(await this.trust.getKey(this.newKey.address)).to.deep.equal(expected);
        }
      });
    }

    it("the rotated key stays valid for the rest of that second (it may still anchor), but cannot rotate again", async function () {
      const { key } = this;
      const batch = await sign(this, 2, key, "after rotation");
      const t = await nextTimestamp(10n);
      const { responses, receipts } = await inOneBlock([
        (o) => this.trust.connect(key).rotateKey(ISSUER_ID, key.address, this.newKey.address, accept(ISSUER_ID, this.newKey.address), o),
        (o) => this.registry.connect(key).anchor(batch.root, batch.digests, o),
        (o) => this.trust.connect(key).rotateKey(ISSUER_ID, key.address, this.spareKey.address, accept(ISSUER_ID, this.spareKey.address), o),
      ]);
      expect(receipts.map((r) => r.status)).to.deep.equal([1, 1, 0]);
      await expect(responses[0])
        .to.emit(this.trust, "KeyRotated")
        .withArgs(ISSUER_ID, key.address, this.newKey.address, true);
      await expect(responses[1])
        .to.emit(this.registry, "BatchAnchored")
        .withArgs(batch.root, ISSUER_ID, key.address, batch.digests);
      expect(await check(this, batch.licenses[0], batch.root)).to.deep.equal([
        true,
        key.address,
        ISSUER_ID,
        true,
        t,
        Status.Active,
      ]);
      // valid through t, but closed by its rotation
      expect(await this.trust.isKeyValid(ISSUER_ID, key.address, t)).to.be.true;
      await expect(outcomeOf(responses[2]))
        .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyClosed")
        .withArgs(ISSUER_ID, key.address);
      expect(await this.trust.getRotation(key.address)).to.deep.equal([this.newKey.address, true, true]);
      expect(await this.trust.getKey(this.spareKey.address)).to.deep.equal([ethers.ZeroHash, 0n, 0n]);
      // from the next second on, the old key can do nothing
      const more = makeBatch(2, "after its second");
      const ts = await nextTimestamp();
      await expect(this.registry.connect(key).anchor(more.root, more.digests))
        .to.be.revertedWithCustomError(this.registry, "LicenseRegistryKeyNotValid")
        .withArgs(ISSUER_ID, key.address, ts);
    });
  });
});
