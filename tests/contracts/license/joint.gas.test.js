// Gas of joint issuance: registering a co-signing key (subgroup check, hash to G2, pairing) and
// anchoring a bundle of 7 members from 5 departments (5 co-signing keys summed, one pairing).

const hre = require("hardhat");
const { ethers } = hre;
const { expect } = require("chai");
const { time } = require("@nomicfoundation/hardhat-network-helpers");

const { OPEN_END, REGION, ISSUER_ID, LICENSE_TYPE, loadFixtureNow } = require("../helpers");
const { makeKey } = require("../helpers/bls");
const { JOINT_TYPES_LIST, jointFixture, makeBundle, member, coSigned, anchorJoint } = require("../helpers/joint");

describe("LicenseRegistry", function () {
  beforeEach(async function () {
    Object.assign(this, await loadFixtureNow(jointFixture));
  });

  describe("gas of joint issuance", function () {
    it("addCoSigningKey, and anchorJoint of 7 members from 5 departments", async function () {
      console.log(`      hardhat hardfork: ${hre.config.networks.hardhat.hardfork}`);
      const key = makeKey("gas");
      const now = BigInt(await time.latest());
      const add = await (
        await this.trust.connect(this.authority).addCoSigningKey(ISSUER_ID, key.publicKey, key.proof, now, OPEN_END)
      ).wait();
      console.log(`      addCoSigningKey: ${add.gasUsed} gas`);

      // a co-approval policy in force for one of the types, satisfied by the bundle
      const ids = this.departments.map((d) => d.issuerId);
      await this.trust.connect(this.authority).setCoApprovalPolicy(REGION, JOINT_TYPES_LIST[1], [ids[0], ids[3]]);
      const members = [];
      for (let i = 0; i < 7; ++i) members.push(member(ids[i % 5], JOINT_TYPES_LIST[i % JOINT_TYPES_LIST.length], `gas ${i}`));
      const signed = await coSigned(this, makeBundle(members, ids));
      const tx = await anchorJoint(this, this.departments[0].signer, signed);
      const anchored = await tx.wait();
      console.log(`      anchorJoint, 7 members, 5 departments: ${anchored.gasUsed} gas (calldata ${ethers.dataLength(tx.data)} bytes)`);

      expect(add.gasUsed).to.be.within(150_000n, 300_000n);
      expect(anchored.gasUsed).to.be.within(250_000n, 450_000n);
      expect(LICENSE_TYPE).to.equal(JOINT_TYPES_LIST[0]);
    });
  });
});
