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

    constructor(DatanetRegistry datanets_) {
        datanets = datanets_;
    }

    /// @notice Registers a model owned by the caller; returns its id (1-based).
    /// @param contributionIds DatanetRegistry ids, strictly increasing; empty only for a base model.
    function register(
        Kind kind,
        uint256 parent,
        bytes32 artifactHash,
        bytes32 configHash,
        bytes32 metricsHash,
        uint256 pricePer1kTokens,
        uint256[] calldata contributionIds
    ) external returns (uint256 modelId) {
        if (artifactHash == bytes32(0)) revert ZeroArtifactHash();
        uint256 existing = modelIdOf[artifactHash];
        if (existing != 0) revert ArtifactAlreadyRegistered(artifactHash, existing);
        if (kind == Kind.Adapter) {
            if (parent == 0 || parent > _models.length || _models[parent - 1].kind != Kind.Base) revert InvalidParent(parent);
            if (_models[parent - 1].status != Status.Active) revert ParentRetired(parent);
        } else if (parent != 0) {
            revert ParentNotAllowed(kind);
        }
        if (kind != Kind.Base && contributionIds.length == 0) revert EmptyTrainingSet();
        if (contributionIds.length > MAX_CONTRIBUTIONS) revert TooManyContributions(contributionIds.length, MAX_CONTRIBUTIONS);

        (bytes32 root, uint256[] memory datanetIds) = _trainingSet(contributionIds);

        modelId = _models.length + 1;
        _models.push(
            Model({
                owner: msg.sender,
                kind: kind,
                status: Status.Active,
                registeredAt: uint64(block.number),
                contributionCount: uint32(contributionIds.length),
                parent: parent,
                artifactHash: artifactHash,
                configHash: configHash,
                trainingSetRoot: root,
                metricsHash: metricsHash,
                pricePer1kTokens: pricePer1kTokens
            })
        );
        _datanetsOf[modelId] = datanetIds;
        modelIdOf[artifactHash] = modelId;
        emit ModelRegistered(modelId, msg.sender, kind, parent, artifactHash, configHash, root, metricsHash, pricePer1kTokens);
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
