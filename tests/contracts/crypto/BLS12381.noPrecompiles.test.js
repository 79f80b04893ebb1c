// BLS12381 on an EVM without EIP-2537 (Cancun): a call to the precompiles' addresses succeeds there
// with empty output, which must never pass for a result. A second in-process Hardhat network, on
// the Cancun hardfork, runs the library (mock) and the registries.

const hre = require("hardhat");
const { ethers } = hre;
const { expect } = require("chai");
const { createProvider } = require("hardhat/internal/core/providers/construction");

const { compileMock, acceptanceDomain, accept, OPEN_END } = require("../helpers");
const { makeKey, sign, SIG_DST } = require("../helpers/bls");

const precompileAddress = (n) => ethers.getAddress(ethers.toBeHex(n, 20));

describe("BLS12381 without EIP-2537 (a Cancun EVM)", function () {
  before(async function () {
    const config = {
      ...hre.config,
      networks: { ...hre.config.networks, hardhat: { ...hre.config.networks.hardhat, hardfork: "cancun" } },
    };
    const provider = await createProvider(config, "hardhat", hre.artifacts);
    this.provider = new ethers.BrowserProvider(provider);
    this.signer = await this.provider.getSigner(0);
    const { abi, bytecode } = compileMock("BLS12381Mock");
    this.mock = await (await new ethers.ContractFactory(abi, bytecode, this.signer).deploy()).waitForDeployment();
  });

  it("runs on Cancun (SHA-256 and MODEXP answer, the EIP-2537 addresses are empty accounts)", async function () {
    expect(await this.provider.send("eth_call", [{ to: "0x000000000000000000000000000000000000000b", data: "0x" + "00".repeat(256) }, "latest"])).to.equal("0x");
    expect(await this.mock.expandMessageXmd("0x", ethers.toUtf8Bytes("dst"), 32)).to.have.length(66);
  });

  it("reverts with BLS12381PrecompileFailed(precompile) instead of taking empty output for a result", async function () {
    const key = makeKey("cancun");
    const message = ethers.id("m");
    const cases = [
      [() => this.mock.hashToG2(message, ethers.toUtf8Bytes(SIG_DST)), 0x11],
      [() => this.mock.g1Add(key.publicKey, key.publicKey), 0x0b],
      [() => this.mock.isInG1(key.publicKey), 0x0c],
      [() => this.mock.g2Add(sign(key.sk, message), sign(key.sk, message)), 0x0d],
      [() => this.mock.pairing2(key.publicKey, sign(key.sk, message), key.publicKey, sign(key.sk, message)), 0x0f],
      [() => this.mock.verify(key.publicKey, message, ethers.toUtf8Bytes(SIG_DST), sign(key.sk, message)), 0x11],
    ];
    for (const [call, precompile] of cases) {
      await expect(call())
        .to.be.revertedWithCustomError(this.mock, "BLS12381PrecompileFailed")
        .withArgs(precompileAddress(precompile));
    }
  });

  it("makes addCoSigningKey revert with BLS12381PrecompileFailed, never accept a key or refuse it as invalid", async function () {
    const [admin, authority, key] = [this.signer, await this.provider.getSigner(1), await this.provider.getSigner(2)];
    const factory = await ethers.getContractFactory("TrustRegistry", admin);
    const trust = await (await factory.deploy(admin.address)).waitForDeployment();
    await (await trust.addRegion(110000, "北京市")).wait();
    await (await trust.addRegionAuthority(110000, authority.address)).wait();
    const issuerId = ethers.encodeBytes32String("11110000MB0195560T");
    await (await trust.connect(authority).registerIssuer(issuerId, 110000, "x", ethers.ZeroHash, "")).wait();
    const domain = { ...acceptanceDomain, verifyingContract: await trust.getAddress() };
    await (await trust.connect(authority).addKey(issuerId, key.address, 0, OPEN_END, accept(issuerId, key.address, { domain }))).wait();
    const coKey = makeKey("cancun key");
    await expect(trust.connect(authority).addCoSigningKey(issuerId, coKey.publicKey, coKey.proof, 0, OPEN_END))
      .to.be.revertedWithCustomError(trust, "BLS12381PrecompileFailed")
      .withArgs(precompileAddress(0x0c));
  });
});
