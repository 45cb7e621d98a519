// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice The verifier that snarkjs exports from the batch circuit's zkey.
interface IGroth16Verifier {
    function verifyProof(
        uint256[2] calldata pA,
        uint256[2][2] calldata pB,
        uint256[2] calldata pC,
        uint256[6] calldata pubSignals
    ) external view returns (bool);
}

/// @notice The verifier that snarkjs exports from the exit circuit's zkey (circuits/exit.circom).
interface IExitVerifier {
    function verifyProof(
        uint256[2] calldata pA,
        uint256[2][2] calldata pB,
        uint256[2] calldata pC,
        uint256[4] calldata pubSignals
    ) external view returns (bool);
}
