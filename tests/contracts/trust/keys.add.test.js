// TrustRegistry: Adding signing keys, and the key's own signed acceptance that adding and rotating require.

const { ethers } = require("hardhat");
const { expect } = require("chai");
const { time } = require("@nomicfoundation/hardhat-network-helpers");

const { shouldOnlyAllowRegionAuthority } = require("../helpers/trust");
const {
  OPEN_END,
  REGION,
  OTHER_REGION,
  accept,
  acceptanceDigest,
  acceptanceDomain,
  KEY_ACCEPTANCE_TYPES,
  ISSUER_ID,
  OTHER_ISSUER_ID,
  deployFixture,
  deployForwarder,
  loadFixtureNow,
} = require("../helpers");

describe("TrustRegistry", function () {
  beforeEach(async function () {
    Object.assign(this, await loadFixtureNow(deployFixture));
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
});
