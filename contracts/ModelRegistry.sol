// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {DatanetRegistry} from "./DatanetRegistry.sol";

/// @title ModelRegistry: models and adapters with their training provenance.
/// @notice Every model that serves paid inferences is registered here with the SHA-256 of its
/// weights file (the artifact in the content-addressed store), the hash of its training
/// configuration, the exact training set and its evaluation. The training set is given as the
/// DatanetRegistry ids of the contributions trained on; this contract reads each one from the
/// registry, refuses unknown and slashed ones, and itself computes the Merkle root of
/// (contribution id, content hash) pairs and the list of datanets, so neither can be claimed
/// without the data behind it. Attribution pays the contributors of exactly this set.
///
/// Registration is commit–reveal, as in DatanetRegistry, so that no one who sees a registration in
/// the mempool can take the weights as their own: first `commit(commitmentOf(artifactHash, owner,
/// salt))`, which reveals nothing, then, in a later block, `register(..., salt)`. A front-runner who
/// copies the revealed artifact hash has no commitment for it and must commit anew and wait a block,
/// by which time the reveal has landed; and if the owner's reveal comes after a registration whose
/// commitment is younger than its own, the earliest commitment wins: the entry (same id) passes to
/// the owner with the owner's training set, configuration and price.
///
/// Merkle tree (docs/PROTOCOL.md, "ModelRegistry"): leaf_i = keccak256(abi.encode(id_i, contentHash_i))
/// over ids in strictly increasing order; a level pairs neighbours with keccak256(left, right) and
/// carries an odd last node up unchanged; the root of one leaf is the leaf; of none, zero.
contract ModelRegistry {
    /// @notice base: a pretrained model; adapter: LoRA weights on a registered base; classifier: a
    /// specialized model trained in full on a datanet.
    enum Kind {
        Base,
        Adapter,
        Classifier
    }

    enum Status {
        Active,
        Retired
    }

    struct Model {
        address owner;
        Kind kind;
        Status status;
        uint64 registeredAt; // block number
        uint32 contributionCount;
        uint64 committedAt; // block of the commitment this registration revealed (packed with the count)
        uint256 parent; // the base of an adapter; 0 otherwise
        bytes32 artifactHash; // SHA-256 of the weights file
        bytes32 configHash; // SHA-256 of the canonical training configuration
        bytes32 trainingSetRoot; // see the contract notice
        bytes32 metricsHash; // SHA-256 of the canonical evaluation report
        uint256 pricePer1kTokens; // OPEN (wei) per 1,000 output tokens
    }

    /// @notice Most contributions one registration may name (gas: ~10k each).
    uint256 public constant MAX_CONTRIBUTIONS = 2048;

    DatanetRegistry public immutable datanets;

    Model[] internal _models;
    mapping(uint256 => uint256[]) internal _datanetsOf;
    /// @notice modelIdOf[artifactHash]: 0 when not registered.
    mapping(bytes32 => uint256) public modelIdOf;
    /// @notice The block in which each registration commitment was first made (0: never).
    mapping(bytes32 => uint256) public commitmentBlock;

    error UnknownModel(uint256 modelId);
    error NotModelOwner(uint256 modelId, address caller);
    error ZeroArtifactHash();
    error ArtifactAlreadyRegistered(bytes32 artifactHash, uint256 modelId);
    error ParentNotAllowed(Kind kind);
    error InvalidParent(uint256 parent);
    error ParentRetired(uint256 parent);
    error EmptyTrainingSet();
    error TooManyContributions(uint256 count, uint256 max);
    error ContributionsNotIncreasing(uint256 index);
    error UnknownContribution(uint256 contributionId);
    error SlashedContribution(uint256 contributionId);
    error StatusUnchanged(uint256 modelId, Status status);
    error NoCommitment(bytes32 commitment);
    error CommitmentTooRecent(bytes32 commitment, uint256 committedAt);

    event ModelRegistered(
        uint256 indexed modelId,
        address indexed owner,
        Kind kind,
        uint256 indexed parent,
        bytes32 artifactHash,
        bytes32 configHash,
        bytes32 trainingSetRoot,
        bytes32 metricsHash,
        uint256 pricePer1kTokens
    );
    /// @notice The training set in full, for anyone who wants to check the root or pay its contributors.
    event TrainingSet(uint256 indexed modelId, uint256[] datanetIds, uint256[] contributionIds);
    event PriceChanged(uint256 indexed modelId, uint256 previousPrice, uint256 newPrice);
    event StatusChanged(uint256 indexed modelId, Status status);
    event ModelCommitted(bytes32 indexed commitment, address indexed sender);
    /// @notice An entry registered under a younger commitment passed to the holder of an earlier one.
    event ModelReassigned(uint256 indexed modelId, address indexed from, address indexed to, uint256 committedAt);

    constructor(DatanetRegistry datanets_) {
        datanets = datanets_;
    }

    /// @notice The commitment that `register` later reveals: the weights, bound to their owner.
    function commitmentOf(bytes32 artifactHash, address owner, bytes32 salt) public pure returns (bytes32) {
        return keccak256(abi.encode(artifactHash, owner, salt));
    }

    /// @notice Commits to a registration without revealing it; anyone may commit (the ModelFactory for a job's owner).
    /// @param commitment `commitmentOf(artifactHash, owner, salt)` with a secret random salt.
    function commit(bytes32 commitment) external {
        if (commitmentBlock[commitment] == 0) commitmentBlock[commitment] = block.number;
        emit ModelCommitted(commitment, msg.sender);
    }

    /// @notice Registers a model owned by the caller, revealing a commitment made in an earlier
    /// block; returns its id (1-based). An artifact registered under a younger commitment (a
    /// front-runner's) passes to the caller, keeping its id.
    /// @param contributionIds DatanetRegistry ids, strictly increasing; empty only for a base model.
    /// @param salt The salt of the caller's commitment.
    function register(
        Kind kind,
        uint256 parent,
        bytes32 artifactHash,
        bytes32 configHash,
        bytes32 metricsHash,
        uint256 pricePer1kTokens,
        uint256[] calldata contributionIds,
        bytes32 salt
    ) external returns (uint256 modelId) {
        Model memory m = _checked(kind, parent, artifactHash, salt, contributionIds.length);
        m.configHash = configHash;
        m.metricsHash = metricsHash;
        m.pricePer1kTokens = pricePer1kTokens;
        modelId = _store(m, contributionIds);
    }

    /// @dev Checks a registration's commitment, artifact, parent and size; returns the entry without its hashes and price.
    function _checked(Kind kind, uint256 parent, bytes32 artifactHash, bytes32 salt, uint256 count) internal view returns (Model memory m) {
        if (artifactHash == bytes32(0)) revert ZeroArtifactHash();
        bytes32 commitment = commitmentOf(artifactHash, msg.sender, salt);
        uint256 committedAt = commitmentBlock[commitment];
        if (committedAt == 0) revert NoCommitment(commitment);
        if (committedAt >= block.number) revert CommitmentTooRecent(commitment, committedAt);
        uint256 existing = modelIdOf[artifactHash];
        if (existing != 0) {
            Model storage held = _models[existing - 1];
            // The earliest commitment wins; anything else is a second registration of the same weights.
            if (committedAt >= held.committedAt || held.owner == msg.sender) revert ArtifactAlreadyRegistered(artifactHash, existing);
        }
        if (kind == Kind.Adapter) {
            if (parent == 0 || parent > _models.length || _models[parent - 1].kind != Kind.Base) revert InvalidParent(parent);
            if (_models[parent - 1].status != Status.Active) revert ParentRetired(parent);
        } else if (parent != 0) {
            revert ParentNotAllowed(kind);
        }
        if (kind != Kind.Base && count == 0) revert EmptyTrainingSet();
        if (count > MAX_CONTRIBUTIONS) revert TooManyContributions(count, MAX_CONTRIBUTIONS);
        m.owner = msg.sender;
        m.kind = kind;
        m.status = Status.Active;
        m.registeredAt = uint64(block.number);
        m.contributionCount = uint32(count);
        m.parent = parent;
        m.artifactHash = artifactHash;
        m.committedAt = uint64(committedAt);
    }

    /// @dev Computes the training set, writes the entry (a new id, or the one an earlier commitment takes over) and emits its events.
    function _store(Model memory m, uint256[] calldata contributionIds) internal returns (uint256 modelId) {
        uint256[] memory datanetIds;
        (m.trainingSetRoot, datanetIds) = _trainingSet(contributionIds);
        modelId = modelIdOf[m.artifactHash];
        if (modelId != 0) {
            address displaced = _models[modelId - 1].owner;
            _models[modelId - 1] = m;
            emit ModelReassigned(modelId, displaced, m.owner, m.committedAt);
        } else {
            _models.push(m);
            modelId = _models.length;
            modelIdOf[m.artifactHash] = modelId;
        }
        _datanetsOf[modelId] = datanetIds;
        emit ModelRegistered(modelId, m.owner, m.kind, m.parent, m.artifactHash, m.configHash, m.trainingSetRoot, m.metricsHash, m.pricePer1kTokens);
        emit TrainingSet(modelId, datanetIds, contributionIds);
    }

    /// @notice Sets the price per 1,000 output tokens (owner only).
    function setPrice(uint256 modelId, uint256 pricePer1kTokens) external {
        Model storage m = _owned(modelId);
        uint256 previous = m.pricePer1kTokens;
        m.pricePer1kTokens = pricePer1kTokens;
        emit PriceChanged(modelId, previous, pricePer1kTokens);
    }

    /// @notice Retires or reactivates a model (owner only). A retired model is not served, and no
    /// adapter can be registered on a retired base.
    function setStatus(uint256 modelId, Status status) external {
        Model storage m = _owned(modelId);
        if (m.status == status) revert StatusUnchanged(modelId, status);
        m.status = status;
        emit StatusChanged(modelId, status);
    }

    /// @notice A model by id (1-based).
    function model(uint256 modelId) external view returns (Model memory) {
        return _model(modelId);
    }

    /// @notice The datanets a model's training set came from, in order of first appearance.
    function datanetsOf(uint256 modelId) external view returns (uint256[] memory) {
        _model(modelId);
        return _datanetsOf[modelId];
    }

    /// @notice Number of models (ids run from 1 to this).
    function modelCount() external view returns (uint256) {
        return _models.length;
    }

    /// @notice The Merkle root of (id, content hash) leaves, as `register` computes it.
    function trainingSetRoot(uint256[] calldata contributionIds) external view returns (bytes32 root) {
        (root, ) = _trainingSet(contributionIds);
    }

    function _trainingSet(uint256[] calldata ids) internal view returns (bytes32, uint256[] memory datanetIds) {
        uint256 n = ids.length;
        bytes32[] memory level = new bytes32[](n);
        uint256[] memory seen = new uint256[](n);
        uint256 distinct;
        uint256 total = datanets.contributionCount();
        for (uint256 i = 0; i < n; i++) {
            uint256 id = ids[i];
            if (i > 0 && id <= ids[i - 1]) revert ContributionsNotIncreasing(i);
            if (id == 0 || id > total) revert UnknownContribution(id);
            DatanetRegistry.Contribution memory c = datanets.contribution(id);
            if (c.slashed) revert SlashedContribution(id);
            level[i] = keccak256(abi.encode(id, c.contentHash));
            bool known;
            for (uint256 j = 0; j < distinct; j++) {
                if (seen[j] == c.datanetId) {
                    known = true;
                    break;
                }
            }
            if (!known) seen[distinct++] = c.datanetId;
        }
        datanetIds = new uint256[](distinct);
        for (uint256 j = 0; j < distinct; j++) datanetIds[j] = seen[j];
        if (n == 0) return (bytes32(0), datanetIds);
        while (n > 1) {
            uint256 half = (n + 1) / 2;
            for (uint256 i = 0; i < n / 2; i++) level[i] = keccak256(abi.encodePacked(level[2 * i], level[2 * i + 1]));
            if (n % 2 == 1) level[half - 1] = level[n - 1];
            n = half;
        }
        return (level[0], datanetIds);
    }

    function _model(uint256 modelId) internal view returns (Model storage) {
        if (modelId == 0 || modelId > _models.length) revert UnknownModel(modelId);
        return _models[modelId - 1];
    }

    function _owned(uint256 modelId) internal view returns (Model storage m) {
        m = _model(modelId);
        if (m.owner != msg.sender) revert NotModelOwner(modelId, msg.sender);
    }
}
