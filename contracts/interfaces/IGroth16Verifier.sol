// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice The verifier that snarkjs exports from the batch circuit's zkey (6 public inputs; an instance with
/// tickets has 9, and AttributionRollup calls it by selector for either).
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
