// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

/// @title Datanets: community datasets with on-chain provenance.
/// @notice A datanet is a named dataset with a curator and a license. Each contribution is
/// registered by the SHA-256 of its canonical bytes (docs/PROTOCOL.md, "Datanets"), with its
/// contributor's address, which is also the contributor's rollup account: attribution
/// payouts go to it. The same content cannot be registered twice in one datanet.
/// A contribution may carry a stake in OPEN; the curator can slash a contribution shown to be
/// bad (a near-duplicate, adversarial or mislabeled), which sends its stake to the curator
/// and excludes it from attribution.
///
/// Registration is commit–reveal, so that no one who sees a registration in the mempool can
/// take its content: first `commit(keccak256(abi.encode(datanetId, contentHash, contributor,
/// salt)))`, which reveals nothing, then, in a later block, `contribute` or `contributeFor`
/// with the salt. A front-runner who copies the revealed hash must commit anew and wait a
/// block, by which time the reveal has landed; and if a reveal comes after a registration
/// whose commitment is younger than its own, the earliest commitment wins: the content passes
/// to it (any stake of the displaced contributor is returned).
///
/// A contributor may also commit its contribution's tokens (`commitTokens`): the Poseidon root
/// of its token commitment (docs/PROTOCOL.md §11.1), which a batch proof opens to show that a
/// paid span of an answer is the contribution's text. The root is a function of the content,
/// so anyone can recompute it; the curator slashes a contribution whose root does not match
/// (SlashReason.TokenMismatch).
contract DatanetRegistry is ReentrancyGuard, EIP712 {
    using SafeERC20 for IERC20;

    /// @notice How a datanet's content is encoded: UTF-8 text, or canonical JSON records.
    enum Kind {
        Text,
        Json
    }

    /// @notice Why a contribution was slashed.
    enum SlashReason {
        Duplicate,
        Adversarial,
        Mislabeled,
        TokenMismatch
    }

    struct Datanet {
        string name;
        string description;
        string license;
        address curator;
        Kind kind;
        uint64 createdAt;
        uint32 contributionCount;
    }

    struct Contribution {
        uint256 datanetId;
        bytes32 contentHash;
        address contributor;
        uint64 registeredAt;
        uint64 stakeUnlocksAt;
        uint96 stake;
        bool slashed;
        uint64 committedAt; // block of the commitment this registration revealed
    }

    /// @dev EIP-712 type of a contributor's consent to a relayed registration.
    bytes32 public constant CONTRIBUTION_TYPEHASH = keccak256("Contribution(uint256 datanetId,bytes32 contentHash,address contributor)");
    /// @dev EIP-712 type of a contributor's consent to a relayed token commitment.
    bytes32 public constant TOKEN_COMMITMENT_TYPEHASH = keccak256("TokenCommitment(uint256 datanetId,bytes32 contentHash,bytes32 tokenRoot)");
    /// @dev The BN254 scalar field: a token root is one of its elements.
    uint256 internal constant FIELD_MODULUS = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    uint256 public constant MAX_NAME_BYTES = 64;
    uint256 public constant MAX_TEXT_BYTES = 1024;

    IERC20 public immutable token;
    /// @notice Seconds a stake stays locked after registration, so the curator has time to review.
    uint256 public immutable stakeLock;

    Datanet[] internal _datanets;
    Contribution[] internal _contributions;
    /// @notice contributionIdOf[datanetId][contentHash]: 0 when not registered, else id (1-based).
    mapping(uint256 => mapping(bytes32 => uint256)) public contributionIdOf;
    /// @notice The block in which each registration commitment was first made (0: never).
    mapping(bytes32 => uint256) public commitmentBlock;
    /// @notice tokenRootOf[contributionId]: the root of its token commitment (0: none committed).
    mapping(uint256 => bytes32) public tokenRootOf;

    error EmptyName();
    error TextTooLong(string field, uint256 length, uint256 max);
    error ZeroCurator();
    error UnknownDatanet(uint256 datanetId);
    error UnknownContribution(uint256 contributionId);
    error ZeroContentHash();
    error DuplicateContent(uint256 datanetId, bytes32 contentHash, uint256 existingId);
    error InvalidContributorSignature(address contributor);
    error NotCurator(uint256 datanetId, address caller);
    error NotContributor(uint256 contributionId, address caller);
    error AlreadySlashed(uint256 contributionId);
    error NothingStaked(uint256 contributionId);
    error StakeLocked(uint256 contributionId, uint256 unlocksAt);
    error ZeroAmount();
    error NoCommitment(bytes32 commitment);
    error CommitmentTooRecent(bytes32 commitment, uint256 committedAt);
    error TokenRootNotInField(bytes32 tokenRoot);
    error TokensAlreadyCommitted(uint256 contributionId, bytes32 tokenRoot);

    event DatanetCreated(uint256 indexed datanetId, address indexed curator, Kind kind, string name, string license);
    event CuratorChanged(uint256 indexed datanetId, address indexed previousCurator, address indexed newCurator);
    event ContributionRegistered(
        uint256 indexed contributionId, uint256 indexed datanetId, address indexed contributor, bytes32 contentHash, uint256 stake
    );
    event ContributionCommitted(bytes32 indexed commitment, address indexed sender);
    event ContributionReassigned(uint256 indexed contributionId, address indexed from, address indexed to, uint256 committedAt);
    event StakeAdded(uint256 indexed contributionId, address indexed contributor, uint256 amount, uint256 total);
    event ContributionSlashed(uint256 indexed contributionId, uint256 indexed datanetId, SlashReason reason, uint256 stakeTaken, address curator);
    event StakeWithdrawn(uint256 indexed contributionId, address indexed contributor, uint256 amount);
    /// @notice A contribution's token root was set, or cleared (tokenRoot 0) when the contribution passed to another contributor.
    event TokensCommitted(uint256 indexed contributionId, address indexed contributor, bytes32 tokenRoot);

    /// @param token_ OPEN, the staking token.
    /// @param stakeLock_ seconds a stake stays locked after registration.
    constructor(IERC20 token_, uint256 stakeLock_) EIP712("poa-rollup DatanetRegistry", "1") {
        token = token_;
        stakeLock = stakeLock_;
    }

    /// @notice Creates a datanet.
    /// @param name short name (1..64 bytes).
    /// @param description free text (up to 1024 bytes).
    /// @param license license of the contributed data, e.g. an SPDX identifier (up to 64 bytes).
    /// @param kind how contributions are encoded (fixes how their content hash is computed).
    /// @param curator the address that may slash contributions and hand over curation.
    /// @return datanetId the new datanet's id (1-based).
    function createDatanet(string calldata name, string calldata description, string calldata license, Kind kind, address curator)
        external
        returns (uint256 datanetId)
    {
        if (bytes(name).length == 0) revert EmptyName();
        if (bytes(name).length > MAX_NAME_BYTES) revert TextTooLong("name", bytes(name).length, MAX_NAME_BYTES);
        if (bytes(description).length > MAX_TEXT_BYTES) revert TextTooLong("description", bytes(description).length, MAX_TEXT_BYTES);
        if (bytes(license).length > MAX_NAME_BYTES) revert TextTooLong("license", bytes(license).length, MAX_NAME_BYTES);
        if (curator == address(0)) revert ZeroCurator();
        _datanets.push(Datanet(name, description, license, curator, kind, uint64(block.timestamp), 0));
        datanetId = _datanets.length;
        emit DatanetCreated(datanetId, curator, kind, name, license);
    }

    /// @notice Hands curation of a datanet to another address.
    /// @param datanetId the datanet.
    /// @param newCurator the new curator (nonzero).
    function setCurator(uint256 datanetId, address newCurator) external {
        Datanet storage d = _datanet(datanetId);
        if (msg.sender != d.curator) revert NotCurator(datanetId, msg.sender);
        if (newCurator == address(0)) revert ZeroCurator();
        emit CuratorChanged(datanetId, d.curator, newCurator);
        d.curator = newCurator;
    }

    /// @notice The commitment that `contribute` / `contributeFor` later reveal.
    function commitmentOf(uint256 datanetId, bytes32 contentHash, address contributor, bytes32 salt) public pure returns (bytes32) {
        return keccak256(abi.encode(datanetId, contentHash, contributor, salt));
    }

    /// @notice Commits to a registration without revealing it; anyone may commit (a relayer for its contributor).
    /// @param commitment `commitmentOf(datanetId, contentHash, contributor, salt)` with a secret random salt.
    function commit(bytes32 commitment) external {
        if (commitmentBlock[commitment] == 0) commitmentBlock[commitment] = block.number;
        emit ContributionCommitted(commitment, msg.sender);
    }

    /// @notice Registers content contributed by the caller, optionally with a stake, revealing a
    /// commitment made in an earlier block.
    /// @param datanetId the datanet.
    /// @param contentHash SHA-256 of the contribution's canonical bytes.
    /// @param stake OPEN to stake (0 for none); the caller must have approved it.
    /// @param salt the salt of the caller's commitment.
    /// @return contributionId the new contribution's id (1-based).
    function contribute(uint256 datanetId, bytes32 contentHash, uint96 stake, bytes32 salt) external nonReentrant returns (uint256 contributionId) {
        contributionId = _register(datanetId, contentHash, msg.sender, stake, _revealed(datanetId, contentHash, msg.sender, salt));
        if (stake > 0) token.safeTransferFrom(msg.sender, address(this), stake);
    }

    /// @notice Registers content on behalf of its contributor, who consented by an EIP-712 signature
    /// (EOA or ERC-1271) over Contribution(datanetId, contentHash, contributor). Used by the
    /// sequencer's upload endpoint, which pays the gas. No stake: the contributor may add one later.
    /// @return contributionId the new contribution's id (1-based).
    function contributeFor(uint256 datanetId, bytes32 contentHash, address contributor, bytes32 salt, bytes calldata signature)
        external
        nonReentrant
        returns (uint256 contributionId)
    {
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(CONTRIBUTION_TYPEHASH, datanetId, contentHash, contributor)));
        if (!SignatureChecker.isValidSignatureNow(contributor, digest, signature)) revert InvalidContributorSignature(contributor);
        contributionId = _register(datanetId, contentHash, contributor, 0, _revealed(datanetId, contentHash, contributor, salt));
    }

    /// @notice The contributor commits its contribution's tokens, once: the root of its token
    /// commitment (docs/PROTOCOL.md §11.1), a non-zero field element.
    /// @param contributionId the caller's unslashed contribution.
    /// @param tokenRoot the root, as core/token-commitment.ts computes it from the content.
    function commitTokens(uint256 contributionId, bytes32 tokenRoot) external {
        Contribution storage c = _contribution(contributionId);
        if (msg.sender != c.contributor) revert NotContributor(contributionId, msg.sender);
        _commitTokens(contributionId, c, tokenRoot);
    }

    /// @notice Relays a token commitment that the contributor signed (EIP-712, EOA or ERC-1271)
    /// over TokenCommitment(datanetId, contentHash, tokenRoot): by content, so that an upload
    /// can carry it with the registration's consent, before the contribution has an id.
    function commitTokensFor(uint256 contributionId, bytes32 tokenRoot, bytes calldata signature) external {
        Contribution storage c = _contribution(contributionId);
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(TOKEN_COMMITMENT_TYPEHASH, c.datanetId, c.contentHash, tokenRoot)));
        if (!SignatureChecker.isValidSignatureNow(c.contributor, digest, signature)) revert InvalidContributorSignature(c.contributor);
        _commitTokens(contributionId, c, tokenRoot);
    }

    function _commitTokens(uint256 contributionId, Contribution storage c, bytes32 tokenRoot) internal {
        if (c.slashed) revert AlreadySlashed(contributionId);
        if (tokenRoot == bytes32(0) || uint256(tokenRoot) >= FIELD_MODULUS) revert TokenRootNotInField(tokenRoot);
        bytes32 existing = tokenRootOf[contributionId];
        if (existing != bytes32(0)) revert TokensAlreadyCommitted(contributionId, existing);
        tokenRootOf[contributionId] = tokenRoot;
        emit TokensCommitted(contributionId, c.contributor, tokenRoot);
    }

    /// @dev The block of the commitment being revealed, which must be older than this block.
    function _revealed(uint256 datanetId, bytes32 contentHash, address contributor, bytes32 salt) internal view returns (uint64) {
        bytes32 c = commitmentOf(datanetId, contentHash, contributor, salt);
        uint256 at = commitmentBlock[c];
        if (at == 0) revert NoCommitment(c);
        if (at >= block.number) revert CommitmentTooRecent(c, at);
        return uint64(at);
    }

    /// @notice Adds OPEN to the stake of one of the caller's contributions (restarts its lock).
    /// @param contributionId the contribution.
    /// @param amount OPEN to add; the caller must have approved it.
    function addStake(uint256 contributionId, uint96 amount) external nonReentrant {
        Contribution storage c = _contribution(contributionId);
        if (msg.sender != c.contributor) revert NotContributor(contributionId, msg.sender);
        if (c.slashed) revert AlreadySlashed(contributionId);
        if (amount == 0) revert ZeroAmount();
        c.stake += amount;
        c.stakeUnlocksAt = uint64(block.timestamp + stakeLock);
        emit StakeAdded(contributionId, msg.sender, amount, c.stake);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice The curator slashes a bad contribution: its stake goes to the curator and it
    /// earns no further attribution.
    /// @param contributionId the contribution.
    /// @param reason why (Duplicate, Adversarial, Mislabeled, TokenMismatch: its token root is not its content's).
    function slash(uint256 contributionId, SlashReason reason) external nonReentrant {
        Contribution storage c = _contribution(contributionId);
        address curator = _datanets[c.datanetId - 1].curator;
        if (msg.sender != curator) revert NotCurator(c.datanetId, msg.sender);
        if (c.slashed) revert AlreadySlashed(contributionId);
        uint96 taken = c.stake;
        c.slashed = true;
        c.stake = 0;
        emit ContributionSlashed(contributionId, c.datanetId, reason, taken, curator);
        if (taken > 0) token.safeTransfer(curator, taken);
    }

    /// @notice The contributor takes back an unslashed stake once its lock has passed.
    /// @param contributionId the contribution.
    function withdrawStake(uint256 contributionId) external nonReentrant {
        Contribution storage c = _contribution(contributionId);
        if (msg.sender != c.contributor) revert NotContributor(contributionId, msg.sender);
        if (c.slashed) revert AlreadySlashed(contributionId);
        uint96 amount = c.stake;
        if (amount == 0) revert NothingStaked(contributionId);
        if (block.timestamp < c.stakeUnlocksAt) revert StakeLocked(contributionId, c.stakeUnlocksAt);
        c.stake = 0;
        emit StakeWithdrawn(contributionId, msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
    }

    /// @notice A datanet by id (1-based).
    function datanet(uint256 datanetId) external view returns (Datanet memory) {
        return _datanet(datanetId);
    }

    /// @notice A contribution by id (1-based).
    function contribution(uint256 contributionId) external view returns (Contribution memory) {
        return _contribution(contributionId);
    }

    /// @notice Number of datanets (ids run from 1 to this).
    function datanetCount() external view returns (uint256) {
        return _datanets.length;
    }

    /// @notice Number of contributions over all datanets (ids run from 1 to this).
    function contributionCount() external view returns (uint256) {
        return _contributions.length;
    }

    /// @notice The EIP-712 digest a contributor signs to consent to `commitTokensFor`.
    function tokenCommitmentDigest(uint256 datanetId, bytes32 contentHash, bytes32 tokenRoot) external view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(TOKEN_COMMITMENT_TYPEHASH, datanetId, contentHash, tokenRoot)));
    }

    /// @notice The EIP-712 digest a contributor signs to consent to `contributeFor`.
    function contributionDigest(uint256 datanetId, bytes32 contentHash, address contributor) external view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(CONTRIBUTION_TYPEHASH, datanetId, contentHash, contributor)));
    }

    function _register(uint256 datanetId, bytes32 contentHash, address contributor, uint96 stake, uint64 committedAt)
        internal
        returns (uint256 id)
    {
        Datanet storage d = _datanet(datanetId);
        if (contentHash == bytes32(0)) revert ZeroContentHash();
        uint256 existing = contributionIdOf[datanetId][contentHash];
        if (existing != 0) {
            Contribution storage c = _contributions[existing - 1];
            // The earliest commitment wins: a registration that revealed a younger commitment
            // (a front-runner who copied the hash) passes to this one.
            if (committedAt >= c.committedAt || c.contributor == contributor || c.slashed) revert DuplicateContent(datanetId, contentHash, existing);
            return _reassign(existing, contributor, stake, committedAt);
        }
        _contributions.push(
            Contribution(datanetId, contentHash, contributor, uint64(block.timestamp), uint64(block.timestamp + stakeLock), stake, false, committedAt)
        );
        id = _contributions.length;
        contributionIdOf[datanetId][contentHash] = id;
        d.contributionCount += 1;
        emit ContributionRegistered(id, datanetId, contributor, contentHash, stake);
    }

    /// @dev Hands unslashed contribution `id` to the holder of an earlier commitment; the
    /// displaced contributor's stake goes back to it.
    function _reassign(uint256 id, address contributor, uint96 stake, uint64 committedAt) internal returns (uint256) {
        Contribution storage c = _contributions[id - 1];
        address displaced = c.contributor;
        uint96 refund = c.stake;
        c.contributor = contributor;
        c.committedAt = committedAt;
        c.registeredAt = uint64(block.timestamp);
        c.stake = stake;
        c.stakeUnlocksAt = uint64(block.timestamp + stakeLock);
        emit ContributionReassigned(id, displaced, contributor, committedAt);
        if (tokenRootOf[id] != bytes32(0)) {
            // The displaced contributor's token commitment is not the new contributor's word.
            delete tokenRootOf[id];
            emit TokensCommitted(id, contributor, bytes32(0));
        }
        if (refund > 0) token.safeTransfer(displaced, refund);
        return id;
    }

    function _datanet(uint256 datanetId) internal view returns (Datanet storage) {
        if (datanetId == 0 || datanetId > _datanets.length) revert UnknownDatanet(datanetId);
        return _datanets[datanetId - 1];
    }

    function _contribution(uint256 contributionId) internal view returns (Contribution storage) {
        if (contributionId == 0 || contributionId > _contributions.length) revert UnknownContribution(contributionId);
        return _contributions[contributionId - 1];
    }
}
