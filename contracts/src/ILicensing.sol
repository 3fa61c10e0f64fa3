// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// Sahara licensing (x/licensing), a precompile at 0x0000000000000000000000000000000000000901.
/// Purposes for checkUse: 1 COMMERCIAL, 2 DERIVATIVE, 3 API_CALL, 4 ACCESS (read the bytes).
/// Every write returns a value: Solidity refuses to call a function without return data on an
/// address without code, and precompiles have none.
interface ILicensing {
    struct Terms {
        bool commercialUse;
        bool derivativesAllowed;
        uint32 derivativeRevShareBps;
        string mintFeeDenom;
        uint256 mintFee;
        string perCallDenom;
        uint256 perCallPrice;
        uint64 durationSeconds;
        bool transferable;
        uint64 supplyCap;
        bool revocable;
    }

    event TermsAttached(uint64 indexed assetId, uint64 indexed termsId);
    event LicenseMinted(uint64 indexed licenseId, uint64 indexed assetId, address indexed holder, uint64 termsId);
    event LicenseTransferred(uint64 indexed licenseId, address indexed to);
    event LicenseRevoked(uint64 indexed licenseId);

    /// Returns the id of identical terms if they exist.
    function createTerms(Terms calldata terms) external returns (uint64 termsId);

    function attachTerms(uint64 assetId, uint64 termsId) external returns (bool);

    /// Pays the mint fee from the caller; fails if the terms ask more than the caps.
    function mintLicense(
        uint64 assetId,
        uint64 termsId,
        address receiver,
        string calldata maxFeeDenom,
        uint256 maxMintFee,
        uint32 maxRevShareBps
    ) external returns (uint64 licenseId);

    function transferLicense(uint64 licenseId, address to) external returns (bool);

    function revokeLicense(uint64 licenseId) external returns (bool);

    function checkUse(address user, uint64 assetId, uint8 purpose) external view returns (bool allowed, string memory reason);
}
