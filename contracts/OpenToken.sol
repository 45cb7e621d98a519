// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @title OPEN, the token that pays for inferences and rewards data contributors.
/// @notice A fixed supply of 10^9 OPEN (18 decimals) is minted once, to `holder`.
/// The supply stays below 2^96 base units, so no layer-2 balance can outgrow the
/// 96-bit balances of the rollup's state tree.
contract OpenToken is ERC20, ERC20Permit {
    /// @notice Total supply in base units: 10^9 OPEN.
    uint256 public constant SUPPLY = 1e27;

    /// @param holder Receives the whole supply.
    constructor(address holder) ERC20("OPEN", "OPEN") ERC20Permit("OPEN") {
        _mint(holder, SUPPLY);
    }
}
