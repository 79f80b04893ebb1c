// TrustRegistry: adding a signing key bound to an SM2 key (addSm2Key): the binding, its event, the
// shape checks of the SM2 key, ID, proof and certificate, the account checks of addKey, the account's
// acceptance of Sm2KeyAcceptance, and who may do it.

const { ethers } = require("hardhat");
const { expect } = require("chai");
const { time } = require("@nomicfoundation/hardhat-network-helpers");
const { sm2 } = require("sm-crypto");

const { shouldOnlyAllowRegionAuthority } = require("../helpers/trust");
const {
  OPEN_END,
  REGION,
  accept,
  acceptanceDomain,
  ISSUER_ID,
  OTHER_ISSUER_ID,
  deployFixture,
  eventsOf,
  loadFixtureNow,
} = require("../helpers");
const {
  SM2_P,
  SM2_N,
  MAX_CERTIFICATE,
  SM2_KEY_ACCEPTANCE_TYPES,
  makeSm2Key,
  sm2AcceptanceMessage,
  sm2AcceptanceDigest,
  idBytes,
  sm2Registration,
  sm2KeyHash,
  sm2Accept,
  boundArgs,
  word,
  coordinates,
  smallPoint,
} = require("../helpers/sm2");

describe("TrustRegistry", function () {
  beforeEach(async function () {
    Object.assign(this, await loadFixtureNow(deployFixture));
  });

  /** addSm2Key by `caller` (default the authority) of `registration` to `account`, valid from now. */
  async function addSm2(ctx, registration, { caller = ctx.authority, account = ctx.newKey.address, issuerId = ISSUER_ID, acceptance, from, until = OPEN_END } = {}) {
    const validFrom = from === undefined ? BigInt(await time.latest()) : from;
    const signature = acceptance === undefined ? sm2Accept(issuerId, account, registration) : acceptance;
    return ctx.trust.connect(caller).addSm2Key(issuerId, account, registration, validFrom, until, signature);
  }

  /** Nothing was written for `account`: no window, no SM2 binding. */
  async function expectNothingFor(ctx, account) {
    expect(await ctx.trust.getKey(account)).to.deep.equal([ethers.ZeroHash, 0n, 0n]);
    expect(await ctx.trust.getSm2Key(account)).to.equal(ethers.ZeroHash);
  }

  describe("addSm2Key", function () {
    it("adds the key with its window, binds the SM2 key, and emits KeyAdded then Sm2KeyBound", async function () {
      const from = BigInt(await time.latest()) + 100n;
      const until = from + 1000n;
      const { registration, keyHash } = sm2Registration(ISSUER_ID, this.newKey.address);
      const tx = addSm2(this, registration, { from, until });
      expect(await eventsOf(this.trust, tx)).to.deep.equal([
        ["KeyAdded", ISSUER_ID, this.newKey.address, from, until],
        ["Sm2KeyBound", ISSUER_ID, this.newKey.address, ...boundArgs(registration)],
      ]);
      expect(await this.trust.getKey(this.newKey.address)).to.deep.equal([ISSUER_ID, from, until]);
      expect(await this.trust.getSm2Key(this.newKey.address)).to.equal(keyHash);
      expect(keyHash).to.equal(ethers.keccak256(ethers.concat([registration.publicKey, registration.distinguishingId])));
      // a plain key has no binding
      expect(await this.trust.getSm2Key(this.key.address)).to.equal(ethers.ZeroHash);
    });

    it("emits the registration exactly (.to.emit ... withArgs), a certificate of 2,048 bytes and IDs of 1 and 64 bytes included", async function () {
      const certificate = ethers.hexlify(ethers.randomBytes(MAX_CERTIFICATE));
      const cases = [
        [this.newKey, { certificate, id: "1234567812345678" }],
        [this.spareKey, { id: "A" }],
        [this.accounts[0], { id: "x".repeat(64) }],
      ];
      for (const [account, options] of cases) {
        const { registration } = sm2Registration(ISSUER_ID, account.address, options);
        const from = BigInt(await time.latest());
        await expect(addSm2(this, registration, { account: account.address, from }))
          .to.emit(this.trust, "Sm2KeyBound")
          .withArgs(ISSUER_ID, account.address, ...boundArgs(registration))
          .and.to.emit(this.trust, "KeyAdded")
          .withArgs(ISSUER_ID, account.address, from, OPEN_END);
        expect(await this.trust.getSm2Key(account.address)).to.equal(sm2KeyHash(registration));
      }
    });

    it("the proof in the event verifies (sm-crypto) over the EIP-712 encoded message, and only for its account", async function () {
      const { sm2Key, registration } = sm2Registration(ISSUER_ID, this.newKey.address);
      const receipt = await (await addSm2(this, registration)).wait();
      const bound = receipt.logs.map((log) => this.trust.interface.parseLog(log)).find((e) => e.name === "Sm2KeyBound");
      const publicKey = "04" + bound.args.publicKey.slice(2);
      const signature = bound.args.proof.slice(2);
      const id = ethers.toUtf8String(bound.args.distinguishingId);
      const message = (account) => Array.from(ethers.getBytes(sm2AcceptanceMessage(ISSUER_ID, account, registration.publicKey, registration.distinguishingId)));
      expect(sm2.doVerifySignature(message(this.newKey.address), signature, publicKey, { hash: true, userId: id })).to.be.true;
      expect(sm2.doVerifySignature(message(this.spareKey.address), signature, publicKey, { hash: true, userId: id })).to.be.false;
      expect(sm2Key.publicKey).to.equal(bound.args.publicKey);
    });

    it("signs Sm2KeyAcceptance(bytes32 issuerId,address key,bytes sm2PublicKey,bytes distinguishingId) under the registry's domain", async function () {
      expect(await this.trust.SM2_KEY_ACCEPTANCE_TYPEHASH()).to.equal(
        ethers.id("Sm2KeyAcceptance(bytes32 issuerId,address key,bytes sm2PublicKey,bytes distinguishingId)"),
      );
      const { registration } = sm2Registration(ISSUER_ID, this.newKey.address);
      const { publicKey, distinguishingId } = registration;
      const digest = await this.trust.sm2KeyAcceptanceDigest(ISSUER_ID, this.newKey.address, publicKey, distinguishingId);
      expect(digest).to.equal(sm2AcceptanceDigest(ISSUER_ID, this.newKey.address, publicKey, distinguishingId));
      expect(digest).to.not.equal(await this.trust.keyAcceptanceDigest(ISSUER_ID, this.newKey.address));
      // ethers' own typed-data signing gives an acceptance the contract takes
      const signature = await this.newKey.signTypedData(acceptanceDomain, SM2_KEY_ACCEPTANCE_TYPES, {
        issuerId: ISSUER_ID,
        key: this.newKey.address,
        sm2PublicKey: publicKey,
        distinguishingId,
      });
      await expect(addSm2(this, registration, { acceptance: signature })).to.emit(this.trust, "Sm2KeyBound");
    });

    it("the same SM2 key may be bound to several accounts (each with its own proof): verifiers tell them apart", async function () {
      const sm2Key = makeSm2Key();
      for (const account of [this.newKey, this.spareKey]) {
        const { registration } = sm2Registration(ISSUER_ID, account.address, { sm2Key });
        await expect(addSm2(this, registration, { account: account.address })).to.emit(this.trust, "Sm2KeyBound");
      }
      expect(await this.trust.getSm2Key(this.newKey.address)).to.equal(await this.trust.getSm2Key(this.spareKey.address));
    });

    shouldOnlyAllowRegionAuthority(async (ctx, caller, issuerId) =>
      addSm2(ctx, sm2Registration(issuerId, ctx.newKey.address).registration, { caller, issuerId }),
    );

    it("the account itself, an SM2-bound key of the issuer and a department of another region may not add one", async function () {
      const { registration } = sm2Registration(ISSUER_ID, this.spareKey.address);
      await addSm2(this, sm2Registration(ISSUER_ID, this.newKey.address).registration);
      for (const caller of [this.spareKey, this.newKey, this.otherKey]) {
        await expect(addSm2(this, registration, { caller, account: this.spareKey.address }))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotRegionAuthority")
          .withArgs(REGION, caller.address);
      }
      await expectNothingFor(this, this.spareKey.address);
    });

    describe("the SM2 registration's shape, cheapest check first", function () {
      /** A valid registration for newKey with `change` applied. */
      function changed(ctx, change) {
        const { registration } = sm2Registration(ISSUER_ID, ctx.newKey.address);
        return { ...registration, ...change(registration) };
      }

      async function expectRefused(ctx, registration, error, args) {
        await expect(addSm2(ctx, registration))
          .to.be.revertedWithCustomError(ctx.trust, error)
          .withArgs(...args);
        await expectNothingFor(ctx, ctx.newKey.address);
      }

      for (const length of [0, 32, 63, 65, 128]) {
        it(`refuses a public key of ${length} bytes (TrustRegistryInvalidSm2KeyLength)`, async function () {
          const registration = changed(this, () => ({ publicKey: ethers.hexlify(ethers.randomBytes(length)) }));
          await expectRefused(this, registration, "TrustRegistryInvalidSm2KeyLength", [length]);
        });
      }

      it("refuses the uncompressed SEC 1 form 04 || X || Y (65 bytes)", async function () {
        const registration = changed(this, (r) => ({ publicKey: ethers.concat(["0x04", r.publicKey]) }));
        await expectRefused(this, registration, "TrustRegistryInvalidSm2KeyLength", [65]);
      });

      for (const length of [0, 65, 256]) {
        it(`refuses an ID of ${length} bytes (TrustRegistryInvalidSm2IdLength)`, async function () {
          const registration = changed(this, () => ({ distinguishingId: idBytes("i".repeat(length)) }));
          await expectRefused(this, registration, "TrustRegistryInvalidSm2IdLength", [length]);
        });
      }

      for (const length of [0, 63, 65, 72]) {
        it(`refuses a proof of ${length} bytes (TrustRegistryInvalidSm2ProofLength; a DER signature is ~72)`, async function () {
          const registration = changed(this, () => ({ proof: ethers.hexlify(ethers.randomBytes(length)) }));
          await expectRefused(this, registration, "TrustRegistryInvalidSm2ProofLength", [length]);
        });
      }

      it("refuses a certificate of 2,049 bytes (TrustRegistrySm2CertificateTooLong)", async function () {
        const registration = changed(this, () => ({ certificate: ethers.hexlify(ethers.randomBytes(MAX_CERTIFICATE + 1)) }));
        await expectRefused(this, registration, "TrustRegistrySm2CertificateTooLong", [MAX_CERTIFICATE + 1, MAX_CERTIFICATE]);
      });

      it("refuses a coordinate >= p (TrustRegistrySm2CoordinateOutOfRange)", async function () {
        const { registration } = sm2Registration(ISSUER_ID, this.newKey.address);
        const [x, y] = coordinates(registration.publicKey);
        const max = 2n ** 256n - 1n;
        for (const [cx, cy] of [[SM2_P, y], [x, SM2_P], [max, y], [x, max], [SM2_P, SM2_P]]) {
          const publicKey = ethers.concat([word(cx), word(cy)]);
          await expectRefused(this, { ...registration, publicKey }, "TrustRegistrySm2CoordinateOutOfRange", [cx, cy]);
        }
      });

      it("refuses a non-canonical encoding of a curve point (x + p), though x itself is on the curve", async function () {
        const [x, y] = smallPoint();
        // the canonical encoding passes the shape checks (and fails only on the acceptance's proof, at verifiers)
        const canonical = changed(this, () => ({ publicKey: ethers.concat([word(x), word(y)]) }));
        await expect(addSm2(this, canonical)).to.emit(this.trust, "Sm2KeyBound");
        const other = this.spareKey.address;
        const { registration } = sm2Registration(ISSUER_ID, other);
        for (const [cx, cy] of [[x + SM2_P, y], [x, y + SM2_P]]) {
          if (cx >= 2n ** 256n || cy >= 2n ** 256n) continue;
          const publicKey = ethers.concat([word(cx), word(cy)]);
          await expect(addSm2(this, { ...registration, publicKey }, { account: other }))
            .to.be.revertedWithCustomError(this.trust, "TrustRegistrySm2CoordinateOutOfRange")
            .withArgs(cx, cy);
        }
        await expectNothingFor(this, other);
      });

      it("refuses a point off the curve, and the all-zero key (TrustRegistrySm2KeyNotOnCurve)", async function () {
        const { registration } = sm2Registration(ISSUER_ID, this.newKey.address);
        const [x, y] = coordinates(registration.publicKey);
        for (const [cx, cy] of [[x, (y + 1n) % SM2_P], [(x + 1n) % SM2_P, y], [0n, 0n], [x, 0n]]) {
          const publicKey = ethers.concat([word(cx), word(cy)]);
          await expectRefused(this, { ...registration, publicKey }, "TrustRegistrySm2KeyNotOnCurve", [cx, cy]);
        }
      });

      it("takes both roots: (x, p - y) is on the curve too", async function () {
        const { registration } = sm2Registration(ISSUER_ID, this.newKey.address);
        const [x, y] = coordinates(registration.publicKey);
        const publicKey = ethers.concat([word(x), word(SM2_P - y)]);
        await expect(addSm2(this, { ...registration, publicKey })).to.emit(this.trust, "Sm2KeyBound");
      });

      it("refuses r or s of 0 or >= n (TrustRegistrySm2ProofOutOfRange), and takes 1 and n - 1", async function () {
        const { registration } = sm2Registration(ISSUER_ID, this.newKey.address);
        const r = BigInt(ethers.dataSlice(registration.proof, 0, 32));
        const s = BigInt(ethers.dataSlice(registration.proof, 32, 64));
        const max = 2n ** 256n - 1n;
        for (const [pr, ps] of [[0n, s], [r, 0n], [SM2_N, s], [r, SM2_N], [max, s], [r, max], [0n, 0n]]) {
          const proof = ethers.concat([word(pr), word(ps)]);
          await expectRefused(this, { ...registration, proof }, "TrustRegistrySm2ProofOutOfRange", [pr, ps]);
        }
        const edge = ethers.concat([word(1n), word(SM2_N - 1n)]);
        await expect(addSm2(this, { ...registration, proof: edge })).to.emit(this.trust, "Sm2KeyBound");
      });

      it("checks in order: lengths, coordinates, curve, proof range, then the account, then the acceptance", async function () {
        const { registration } = sm2Registration(ISSUER_ID, this.newKey.address);
        const [x] = coordinates(registration.publicKey);
        const badProof = ethers.concat([word(0n), word(0n)]);
        const offCurve = ethers.concat([word(x), word(1n)]);
        const outOfRange = ethers.concat([word(SM2_P), word(1n)]);
        // a bad key length wins over a bad ID length, proof length and certificate
        await expect(addSm2(this, { ...registration, publicKey: "0x", distinguishingId: "0x", proof: "0x" }))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryInvalidSm2KeyLength").withArgs(0);
        await expect(addSm2(this, { ...registration, distinguishingId: "0x", proof: "0x" }))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryInvalidSm2IdLength").withArgs(0);
        await expect(addSm2(this, { ...registration, proof: "0x", certificate: ethers.hexlify(ethers.randomBytes(3000)) }))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryInvalidSm2ProofLength").withArgs(0);
        await expect(addSm2(this, { ...registration, publicKey: outOfRange, certificate: ethers.hexlify(ethers.randomBytes(3000)) }))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistrySm2CertificateTooLong").withArgs(3000, MAX_CERTIFICATE);
        await expect(addSm2(this, { ...registration, publicKey: outOfRange, proof: badProof }))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistrySm2CoordinateOutOfRange").withArgs(SM2_P, 1n);
        await expect(addSm2(this, { ...registration, publicKey: offCurve, proof: badProof }))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistrySm2KeyNotOnCurve").withArgs(x, 1n);
        // a bad proof wins over the account checks; those over the acceptance
        await expect(addSm2(this, { ...registration, proof: badProof }, { account: ethers.ZeroAddress, acceptance: "0x" }))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistrySm2ProofOutOfRange").withArgs(0n, 0n);
        await expect(addSm2(this, registration, { account: ethers.ZeroAddress, acceptance: "0x" }))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryZeroAddress");
        // and the caller before anything
        await expect(addSm2(this, { ...registration, publicKey: "0x" }, { caller: this.stranger }))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryNotRegionAuthority").withArgs(REGION, this.stranger.address);
      });
    });

    describe("the account: addKey's checks", function () {
      it("refuses the zero address, an authority of the region, a key in use (another issuer's, its own), an empty window", async function () {
        const from = BigInt(await time.latest());
        const asKey = (account) => sm2Registration(ISSUER_ID, account).registration;
        await expect(addSm2(this, asKey(ethers.ZeroAddress), { account: ethers.ZeroAddress }))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryZeroAddress");
        await expect(addSm2(this, asKey(this.authority.address), { account: this.authority.address }))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyIsAuthority")
          .withArgs(ISSUER_ID, this.authority.address);
        await expect(addSm2(this, asKey(this.otherKey.address), { account: this.otherKey.address }))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyInUse")
          .withArgs(this.otherKey.address, OTHER_ISSUER_ID);
        await expect(addSm2(this, asKey(this.key.address), { account: this.key.address }))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyInUse")
          .withArgs(this.key.address, ISSUER_ID);
        await expect(addSm2(this, asKey(this.newKey.address), { from, until: from }))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryInvalidWindow")
          .withArgs(from, from);
        await expectNothingFor(this, this.newKey.address);
        expect(await this.trust.getSm2Key(this.key.address)).to.equal(ethers.ZeroHash);
      });

      it("an account is bound once: an SM2-bound key cannot be bound again, to another SM2 key or the same", async function () {
        const first = sm2Registration(ISSUER_ID, this.newKey.address);
        await addSm2(this, first.registration);
        for (const registration of [first.registration, sm2Registration(ISSUER_ID, this.newKey.address).registration]) {
          await expect(addSm2(this, registration))
            .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyInUse")
            .withArgs(this.newKey.address, ISSUER_ID);
        }
        expect(await this.trust.getSm2Key(this.newKey.address)).to.equal(first.keyHash);
        // nor re-added as a plain key
        const from = BigInt(await time.latest());
        await expect(this.trust.connect(this.authority).addKey(ISSUER_ID, this.newKey.address, from, OPEN_END, accept(ISSUER_ID, this.newKey.address)))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyInUse")
          .withArgs(this.newKey.address, ISSUER_ID);
      });
    });

    describe("the account's acceptance of Sm2KeyAcceptance", function () {
      const kinds = {
        missing: () => "0x",
        "signed by another account": (ctx, r) => sm2Accept(ISSUER_ID, ctx.newKey.address, r, { by: ctx.stranger.address }),
        "signed by the caller (the authority)": (ctx, r) => sm2Accept(ISSUER_ID, ctx.newKey.address, r, { by: ctx.authority.address }),
        "over another SM2 key": (ctx, r) => sm2Accept(ISSUER_ID, ctx.newKey.address, { ...r, publicKey: makeSm2Key().publicKey }),
        "over another ID": (ctx, r) => sm2Accept(ISSUER_ID, ctx.newKey.address, { ...r, distinguishingId: idBytes("another id") }),
        "for another issuer": (ctx, r) => sm2Accept(OTHER_ISSUER_ID, ctx.newKey.address, r),
        "for another account": (ctx, r) => sm2Accept(ISSUER_ID, ctx.spareKey.address, r, { by: ctx.newKey.address }),
        "of the plain KeyAcceptance": (ctx) => accept(ISSUER_ID, ctx.newKey.address),
        "under another chain's domain": (ctx, r) =>
          sm2Accept(ISSUER_ID, ctx.newKey.address, r, { domain: { ...acceptanceDomain, chainId: 1 } }),
        truncated: (ctx, r) => sm2Accept(ISSUER_ID, ctx.newKey.address, r).slice(0, 130),
      };
      for (const [kind, make] of Object.entries(kinds)) {
        it(`refuses an acceptance ${kind} (TrustRegistrySm2KeyNotAccepted)`, async function () {
          const { registration, keyHash } = sm2Registration(ISSUER_ID, this.newKey.address);
          await expect(addSm2(this, registration, { acceptance: make(this, registration) }))
            .to.be.revertedWithCustomError(this.trust, "TrustRegistrySm2KeyNotAccepted")
            .withArgs(ISSUER_ID, this.newKey.address, keyHash);
          await expectNothingFor(this, this.newKey.address);
        });
      }

      it("an SM2 acceptance does not add a plain key (addKey refuses it)", async function () {
        const { registration } = sm2Registration(ISSUER_ID, this.newKey.address);
        const from = BigInt(await time.latest());
        await expect(this.trust.connect(this.authority).addKey(ISSUER_ID, this.newKey.address, from, OPEN_END, sm2Accept(ISSUER_ID, this.newKey.address, registration)))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistryKeyNotAccepted")
          .withArgs(ISSUER_ID, this.newKey.address);
      });

      it("a registration published for one department cannot be used by another region to squat the account", async function () {
        const { registration } = sm2Registration(ISSUER_ID, this.newKey.address);
        const published = sm2Accept(ISSUER_ID, this.newKey.address, registration);
        await expect(addSm2(this, registration, { caller: this.otherAuthority, issuerId: OTHER_ISSUER_ID, acceptance: published }))
          .to.be.revertedWithCustomError(this.trust, "TrustRegistrySm2KeyNotAccepted")
          .withArgs(OTHER_ISSUER_ID, this.newKey.address, sm2KeyHash(registration));
        await expectNothingFor(this, this.newKey.address);
        await expect(addSm2(this, registration, { acceptance: published })).to.emit(this.trust, "Sm2KeyBound");
      });
    });
  });
});
