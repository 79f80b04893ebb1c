// LicenseRegistry: Gas per license of anchoring and revoking.

const hre = require("hardhat");
const { ethers } = hre;
const { expect } = require("chai");

const { licenseFixture } = require("../helpers/license");
const { ISSUER_ID, makeBatch, loadFixtureNow } = require("../helpers");

describe("LicenseRegistry", function () {
  beforeEach(async function () {
    Object.assign(this, await loadFixtureNow(licenseFixture));
  });

  // ----------------------------------------------------------------------------------------------
  // Gas (product requirements)
  // ----------------------------------------------------------------------------------------------

  describe("gas", function () {
    /** EIP-7623 floor of a transaction: 21000 + 10 * (zero bytes + 4 * non-zero bytes). */
    function calldataFloor(data) {
      const bytes = ethers.getBytes(data);
      const zeros = bytes.filter((b) => b === 0).length;
      return 21000n + 10n * BigInt(zeros + 4 * (bytes.length - zeros));
    }

    async function measure(txPromise, count) {
      const tx = await txPromise;
      const receipt = await tx.wait();
      return { gas: receipt.gasUsed, perLicense: Number(receipt.gasUsed) / count, floor: calldataFloor(tx.data) };
    }

    it("gas per license of anchoring and revoking", async function () {
      const hardfork = hre.config.networks.hardhat.hardfork;
      console.log(`      hardhat hardfork: ${hardfork}`);

      const anchors = {};
      for (const n of [1, 100, 1000]) {
        const { digests, root } = makeBatch(n, `gas-${n}`);
        anchors[n] = { ...(await measure(this.registry.connect(this.key).anchor(root, digests), n)), digests };
        const a = anchors[n];
        console.log(
          `      anchor ${String(n).padStart(4)}: ${a.gas} gas, ${a.perLicense.toFixed(1)} gas/license (calldata floor ${a.floor})`,
        );
      }

      const revokes = {};
      // revoke freshly anchored, active licenses (first write of each status slot: the worst case)
      const toRevoke = { 1: anchors[1000].digests.slice(0, 1), 100: anchors[1000].digests.slice(1, 101) };
      for (const n of [1, 100]) {
        revokes[n] = await measure(this.registry.connect(this.key).revoke(ISSUER_ID, toRevoke[n], 1), n);
        const r = revokes[n];
        console.log(`      revoke ${String(n).padStart(4)}: ${r.gas} gas, ${r.perLicense.toFixed(1)} gas/license`);
      }

      // EIP-7623 (Prague and later) is in force: the anchor of 1000 pays at least the calldata floor
      expect(anchors[1000].gas >= anchors[1000].floor).to.be.true;
      expect(anchors[1000].perLicense).to.be.at.most(1500);
      expect(revokes[100].perLicense).to.be.at.most(25000);
    });
  });
});
