// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @title AttributionRegistry
/// @notice Provenant's on-chain registry: Datanet snapshots, fine-tuned models, evaluation summaries and Merkle-batched
///         attribution records. Only hashes and roots live here; the data they commit to stays off chain.
/// @dev Every record is write-once: publishing an id twice reverts, which makes publishing idempotent for callers that
///      retry (a retried batch can never become a second record). Attribution leaves follow OpenZeppelin's
///      StandardMerkleTree: leaf = keccak256(bytes.concat(keccak256(abi.encode(record fields)))), pairs hashed sorted.
contract AttributionRegistry {
    /// @notice One attribution event: which contributor a query's prediction is attributed to, and the reward.
    /// @dev Field order is the leaf encoding (bytes32, address, int256, uint256, bytes32); never reorder.
    struct AttributionRecord {
        bytes32 queryHash;
        address contributor;
        int256 score; // fixed point, 18 decimals; negative when the contributor's rows hurt the prediction
        uint256 rewardWei;
        bytes32 modelRef;
    }

    struct Snapshot {
        bytes32 root;
        address publisher;
        uint64 rowCount;
        uint32 publishedAt;
        string uri;
    }

    struct Model {
        bytes32 baseHash;
        bytes32 adapterHash;
        bytes32 snapshotRoot;
        bytes32 configHash;
        address publisher;
        uint32 publishedAt;
    }

    struct Evaluation {
        bytes32 modelId;
        bytes32 summaryHash;
        address publisher;
        uint32 publishedAt;
        string uri;
    }

    struct AttributionBatch {
        bytes32 root;
        bytes32 modelRef;
        address publisher;
        uint64 recordCount;
        uint32 publishedAt;
    }

    address public owner;
    mapping(address => bool) public isPublisher;

    mapping(bytes32 => mapping(uint64 => Snapshot)) private _snapshots;
    mapping(bytes32 => Model) private _models;
    mapping(bytes32 => Evaluation) private _evaluations;
    mapping(bytes32 => AttributionBatch) private _batches;

    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    event PublisherSet(address indexed publisher, bool allowed);
    event SnapshotPublished(
        bytes32 indexed datanetId, uint64 indexed version, address indexed publisher, bytes32 root, uint64 rowCount, string uri
    );
    event ModelPublished(
        bytes32 indexed modelId,
        address indexed publisher,
        bytes32 baseHash,
        bytes32 adapterHash,
        bytes32 snapshotRoot,
        bytes32 configHash
    );
    event EvaluationPublished(
        bytes32 indexed evaluationId, bytes32 indexed modelId, address indexed publisher, bytes32 summaryHash, string uri
    );
    event AttributionBatchPublished(
        bytes32 indexed batchId, bytes32 indexed modelRef, address indexed publisher, bytes32 root, uint64 recordCount
    );
    /// @notice Per-event attribution without a Merkle root (the "one event per attribution" strategy).
    event AttributionRecorded(
        bytes32 indexed queryHash, address indexed contributor, bytes32 indexed modelRef, int256 score, uint256 rewardWei
    );

    error NotOwner(address caller);
    error NotPublisher(address caller);
    error ZeroAddress();
    error ZeroHash(string field);
    error SnapshotExists(bytes32 datanetId, uint64 version);
    error ModelExists(bytes32 modelId);
    error ModelNotFound(bytes32 modelId);
    error EvaluationExists(bytes32 evaluationId);
    error BatchExists(bytes32 batchId);
    error EmptyBatch();

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    modifier onlyPublisher() {
        if (!isPublisher[msg.sender]) revert NotPublisher(msg.sender);
        _;
    }

    constructor(address[] memory publishers) {
        owner = msg.sender;
        emit OwnershipTransferred(address(0), msg.sender);
        for (uint256 i = 0; i < publishers.length; i++) {
            _setPublisher(publishers[i], true);
        }
    }

    // ---------------------------------------------------------------- administration

    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert ZeroAddress();
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    function setPublisher(address publisher, bool allowed) external onlyOwner {
        _setPublisher(publisher, allowed);
    }

    function _setPublisher(address publisher, bool allowed) private {
        if (publisher == address(0)) revert ZeroAddress();
        isPublisher[publisher] = allowed;
        emit PublisherSet(publisher, allowed);
    }

    // ---------------------------------------------------------------- records

    function publishSnapshot(bytes32 datanetId, uint64 version, bytes32 root, uint64 rowCount, string calldata uri)
        external
        onlyPublisher
    {
        if (root == bytes32(0)) revert ZeroHash("root");
        Snapshot storage s = _snapshots[datanetId][version];
        if (s.publisher != address(0)) revert SnapshotExists(datanetId, version);
        s.root = root;
        s.publisher = msg.sender;
        s.rowCount = rowCount;
        s.publishedAt = uint32(block.timestamp);
        s.uri = uri;
        emit SnapshotPublished(datanetId, version, msg.sender, root, rowCount, uri);
    }

    /// @return modelId keccak256(abi.encode(baseHash, adapterHash, snapshotRoot, configHash)), see `modelIdOf`.
    function publishModel(bytes32 baseHash, bytes32 adapterHash, bytes32 snapshotRoot, bytes32 configHash)
        external
        onlyPublisher
        returns (bytes32 modelId)
    {
        if (adapterHash == bytes32(0)) revert ZeroHash("adapterHash");
        modelId = modelIdOf(baseHash, adapterHash, snapshotRoot, configHash);
        Model storage m = _models[modelId];
        if (m.publisher != address(0)) revert ModelExists(modelId);
        m.baseHash = baseHash;
        m.adapterHash = adapterHash;
        m.snapshotRoot = snapshotRoot;
        m.configHash = configHash;
        m.publisher = msg.sender;
        m.publishedAt = uint32(block.timestamp);
        emit ModelPublished(modelId, msg.sender, baseHash, adapterHash, snapshotRoot, configHash);
    }

    /// @return evaluationId keccak256(abi.encode(modelId, summaryHash)), see `evaluationIdOf`.
    function publishEvaluation(bytes32 modelId, bytes32 summaryHash, string calldata uri)
        external
        onlyPublisher
        returns (bytes32 evaluationId)
    {
        if (summaryHash == bytes32(0)) revert ZeroHash("summaryHash");
        if (_models[modelId].publisher == address(0)) revert ModelNotFound(modelId);
        evaluationId = evaluationIdOf(modelId, summaryHash);
        Evaluation storage e = _evaluations[evaluationId];
        if (e.publisher != address(0)) revert EvaluationExists(evaluationId);
        e.modelId = modelId;
        e.summaryHash = summaryHash;
        e.publisher = msg.sender;
        e.publishedAt = uint32(block.timestamp);
        e.uri = uri;
        emit EvaluationPublished(evaluationId, modelId, msg.sender, summaryHash, uri);
    }

    /// @notice Commits to `recordCount` attribution records by their Merkle root. One call per block carries any number
    ///         of records; each is later provable with `verifyAttribution`.
    function publishAttributionBatch(bytes32 batchId, bytes32 root, uint64 recordCount, bytes32 modelRef)
        external
        onlyPublisher
    {
        if (root == bytes32(0)) revert ZeroHash("root");
        if (recordCount == 0) revert EmptyBatch();
        if (_models[modelRef].publisher == address(0)) revert ModelNotFound(modelRef);
        AttributionBatch storage b = _batches[batchId];
        if (b.publisher != address(0)) revert BatchExists(batchId);
        b.root = root;
        b.modelRef = modelRef;
        b.publisher = msg.sender;
        b.recordCount = recordCount;
        b.publishedAt = uint32(block.timestamp);
        emit AttributionBatchPublished(batchId, modelRef, msg.sender, root, recordCount);
    }

    /// @notice The per-event strategy: one log per attribution, no storage. Kept for comparison and for low rates.
    function recordAttribution(AttributionRecord calldata record) external onlyPublisher {
        emit AttributionRecorded(record.queryHash, record.contributor, record.modelRef, record.score, record.rewardWei);
    }

    /// @notice The batched-events strategy: many logs in one transaction.
    function recordAttributions(AttributionRecord[] calldata records) external onlyPublisher {
        for (uint256 i = 0; i < records.length; i++) {
            AttributionRecord calldata r = records[i];
            emit AttributionRecorded(r.queryHash, r.contributor, r.modelRef, r.score, r.rewardWei);
        }
    }

    // ---------------------------------------------------------------- views

    function getSnapshot(bytes32 datanetId, uint64 version) external view returns (Snapshot memory) {
        return _snapshots[datanetId][version];
    }

    function getModel(bytes32 modelId) external view returns (Model memory) {
        return _models[modelId];
    }

    function getEvaluation(bytes32 evaluationId) external view returns (Evaluation memory) {
        return _evaluations[evaluationId];
    }

    function getAttributionBatch(bytes32 batchId) external view returns (AttributionBatch memory) {
        return _batches[batchId];
    }

    /// @notice True iff `record` is a leaf of the batch's Merkle tree. The leaf is hashed here from the record's fields,
    ///         never taken from the caller, so an inner node can never pass as a leaf (second-preimage safety).
    function verifyAttribution(bytes32 batchId, AttributionRecord calldata record, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        bytes32 root = _batches[batchId].root;
        if (root == bytes32(0)) return false;
        return MerkleProof.verifyCalldata(proof, root, attributionLeaf(record));
    }

    function attributionLeaf(AttributionRecord calldata record) public pure returns (bytes32) {
        return keccak256(
            bytes.concat(
                keccak256(
                    abi.encode(record.queryHash, record.contributor, record.score, record.rewardWei, record.modelRef)
                )
            )
        );
    }

    function modelIdOf(bytes32 baseHash, bytes32 adapterHash, bytes32 snapshotRoot, bytes32 configHash)
        public
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(baseHash, adapterHash, snapshotRoot, configHash));
    }

    function evaluationIdOf(bytes32 modelId, bytes32 summaryHash) public pure returns (bytes32) {
        return keccak256(abi.encode(modelId, summaryHash));
    }
}
