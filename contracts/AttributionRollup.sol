// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IExitVerifier, IGroth16Verifier} from "./interfaces/IGroth16Verifier.sol";
import {IPoseidon2, IPoseidon4, IPoseidon5, IPoseidon6} from "./interfaces/IPoseidon.sol";

/// @title poa-rollup's L1 contract: escrow, priority queue, proved batches, withdrawals, forced exit.
/// @notice Layer-2 balances live in a Poseidon Merkle tree whose root this contract stores.
/// Every batch carries a Groth16 proof that its state change follows docs/PROTOCOL.md.
/// Deposits and withdrawal requests enter a priority queue, hashed into a Poseidon chain,
/// that each batch must consume in order; if the oldest queued operation passes its due block,
/// batches stop and every account can exit against the last root. Due blocks grow with queue
/// position (at most `queueOpsPerBatch` operations share one), so a burst of requests by an
/// outsider cannot make a sequencer that keeps its nominal pace late (docs/PROTOCOL.md §4).
contract AttributionRollup is AccessControl, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice The role allowed to submit batches.
    bytes32 public constant SEQUENCER_ROLE = keccak256("SEQUENCER_ROLE");
    /// @dev The BN254 scalar field; every value the circuit reads must be below it.
    uint256 internal constant FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    uint8 internal constant KIND_DEPOSIT = 1;
    uint8 internal constant KIND_WITHDRAWAL = 2;
    /// @dev Body record sizes in bytes besides the leaf index (docs/PROTOCOL.md, "Public data").
    uint256 internal constant AMOUNT_BYTES = 12;
    uint256 internal constant BUNDLE_BYTES = 13;
    uint256 internal constant SLOT_BYTES = 12;
    uint256 internal constant ADDRESS_BYTES = 20;
    /// @dev Ticket records (docs/PROTOCOL.md §16.3): a commit is 2 indices + count u16 + rootHash + rootSum u96,
    /// a winner an index + ticketIndex u16, the pool an index + inflow u96 + outflow u96.
    uint256 internal constant COMMIT_BYTES = 2 + 32 + 12;
    uint256 internal constant WINNER_BYTES = 2;
    uint256 internal constant POOL_BYTES = 24;
    /// @dev prevrandao's top 253 bits are a field element; 0 means "not recorded", so it is stored as 1.
    uint256 internal constant BEACON_SHIFT = 3;

    /// @notice The circuit instance's shape; the body of every batch has exactly `bodyLength` bytes.
    /// @param depth Levels of the 4-ary account tree (4^depth leaves).
    /// @param newAccounts Credit slots whose new account's address the body publishes.
    struct Shape {
        uint256 depth;
        uint256 queueOps;
        uint256 bundles;
        uint256 slots;
        uint256 newAccounts;
        /// @dev Payment tickets (docs/PROTOCOL.md §16): bundles a batch may commit and winners it may pay; both 0 without tickets.
        uint256 ticketCommits;
        uint256 winners;
    }

    /// @notice A queued L1 operation, kept until a batch consumes it (or it is refunded in exit mode).
    struct QueuedOp {
        address account;
        uint96 amount;
        uint8 kind;
        uint64 dueBlock; // a batch must consume the operation by this block, or exit mode may begin
    }

    /// @notice How long the sequencer may take, and how many leaves deposits may claim.
    /// @param exitDelay Blocks a queued operation may wait when the queue is otherwise empty.
    /// @param blocksPerBatch The sequencer's nominal pace: blocks per batch of `queueOpsPerBatch`
    ///        operations; each further group of that many queued operations is due this much later.
    /// @param maxDepositors Distinct addresses (other than the treasury) that may ever deposit, so
    ///        deposits alone never fill the tree: the sequencer keeps credits to the other leaves.
    struct Liveness {
        uint64 exitDelay;
        uint64 blocksPerBatch;
        uint256 maxDepositors;
    }

    IERC20 public immutable token;
    IGroth16Verifier public immutable verifier;
    /// @notice Verifies forced-exit proofs: a leaf under the last root (circuits/exit.circom).
    IExitVerifier public immutable exitVerifier;
    IPoseidon2 public immutable poseidon2;
    IPoseidon4 public immutable poseidon4;
    IPoseidon5 public immutable poseidon5;
    IPoseidon6 public immutable poseidon6;
    uint256 public immutable depth;
    /// @notice Bytes of a leaf index in the body: ceil(2 * depth / 8).
    uint256 public immutable indexBytes;
    uint256 public immutable queueOpsPerBatch;
    uint256 public immutable bodyLength;
    /// @notice Ticket bundles a batch may commit, and winners it may pay (0 and 0: an instance without tickets).
    uint256 public immutable ticketCommits;
    uint256 public immutable ticketWinners;
    /// @notice Public inputs of the batch circuit: 6, or 9 with tickets (batchNumber, beaconBatch, beacon).
    uint256 public immutable publicInputCount;
    /// @dev Selector of the exported verifier's verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[N]).
    bytes4 internal immutable verifySelector;
    /// @dev Body offset of the first ticket-commit record.
    uint256 internal immutable commitOffset;
    uint256 public immutable exitDelay;
    uint256 public immutable blocksPerBatch;
    uint256 public immutable maxDepositors;
    /// @notice Owner of leaf 0, which receives the protocol's share of every fee.
    address public immutable treasury;
    /// @notice chainId * 2^160 + address(this): bundles signed for another deployment do not verify here.
    uint256 public immutable domain;

    uint256 public stateRoot;
    uint256 public batchCount;
    /// @notice The state root after each batch; batchRoot[0] is the genesis root.
    mapping(uint256 => uint256) public batchRoot;

    /// @notice queueHashAt[i] is the queue's hash chain after i operations; queueHashAt[0] = 0.
    mapping(uint256 => uint256) public queueHashAt;
    mapping(uint256 => QueuedOp) public queuedOps;
    uint256 public queueLength;
    /// @notice Operations consumed by batches so far: the queue's oldest pending index.
    uint256 public queueHead;
    /// @notice OPEN held for queued deposits that no batch has consumed yet.
    uint256 public pendingDeposits;
    /// @notice Distinct addresses that have deposited.
    uint128 public depositorCount;
    /// @dev Due blocks of the last `queueOpsPerBatch` queued operations, by queue index modulo
    /// `queueOpsPerBatch`: op i's due block must follow op i - NQ's by `blocksPerBatch`, and op
    /// i - NQ may already be consumed (and deleted) when op i arrives. NQ slots, rewritten in turn.
    mapping(uint256 => uint64) internal recentDue;
    /// @notice Addresses that have deposited (they may own a leaf made by a deposit).
    mapping(address => bool) public isDepositor;

    /// @notice OPEN that withdrawals recorded by batches owe each address. (No running total is
    /// kept: it would cost every claim ~5k gas; the sum is WithdrawalRecorded minus Claimed events.)
    mapping(address => uint256) public claimable;

    bool public exitMode;
    mapping(uint256 => bool) public exited;
    mapping(uint256 => bool) public refunded;

    /// @notice The beacon that decides the tickets committed in batch n (0-based: batch n is the one
    /// submitted when `batchCount` was n): prevrandao >> 3 of the first block after batch n's that
    /// recorded it (0 until then; a recorded 0 is stored as 1). docs/PROTOCOL.md §16.5.
    mapping(uint256 => uint256) public beacon;
    /// @dev Batches that committed ticket bundles and still wait for their beacon, in order from
    /// `beaconHead`; `commitBlock[n]` is the block that stored batch n.
    uint256[] internal beaconQueue;
    uint256 public beaconHead;
    mapping(uint256 => uint256) public commitBlock;

    error ZeroAmount();
    error ZeroTreasury();
    /// @notice The liveness settings or the circuit shape cannot work (a zero delay or pace, no queue
    /// ops, a depth outside 1..16, every slot a new-account slot, or room for depositors only).
    error InvalidLiveness();
    error DepositorLimitReached(uint256 maxDepositors);
    error LeafFieldOutOfRange();
    error KeyNotInField();
    error AccountIndexOutOfRange(uint256 index);
    error BodyLengthMismatch(uint256 got, uint256 expected);
    error TooManyQueueOps(uint256 requested, uint256 available);
    error RootNotInField();
    error InvalidProof();
    error BatchesStopped();
    error NotInExitMode();
    error NoOverdueOperation();
    error NothingToClaim(address account);
    error AlreadyExited(uint256 index);
    error InvalidExitProof();
    error NotRefundable(uint256 queueIndex);
    error BeaconNotDue(uint256 batchNumber);

    event DepositQueued(uint256 indexed queueIndex, address indexed account, uint256 amount, uint256 ax, uint256 ay, uint256 queueHash);
    event WithdrawalRequested(uint256 indexed queueIndex, address indexed account, uint256 accountIndex, uint256 queueHash);
    event BatchSubmitted(uint256 indexed batchNumber, uint256 oldRoot, uint256 newRoot, uint256 firstOp, uint256 opsConsumed, uint256 bodyHash);
    event WithdrawalRecorded(uint256 indexed batchNumber, address indexed account, uint256 amount);
    event Claimed(address indexed account, uint256 amount);
    event ExitModeActivated(uint256 indexed queueIndex, uint256 dueBlock);
    event Exited(uint256 indexed accountIndex, address indexed account, uint256 amount);
    event DepositRefunded(uint256 indexed queueIndex, address indexed account, uint256 amount);
    /// @notice Batch `batchNumber` (0-based) committed ticket bundles; its beacon is recorded in a later block.
    event TicketsCommitted(uint256 indexed batchNumber, uint256 blockNumber);
    event BeaconRecorded(uint256 indexed batchNumber, uint256 beacon);

    /// @param token_ The OPEN token.
    /// @param verifier_ The Groth16 verifier exported from the batch circuit's zkey.
    /// @param exitVerifier_ The Groth16 verifier exported from the exit circuit's zkey (same depth).
    /// @param hashers Poseidon(2), Poseidon(4), Poseidon(5) and Poseidon(6) contracts from circomlibjs.
    /// @param shape The circuit instance's parameters (circuits/circuits.json).
    /// @param treasury_ Owner of leaf 0; the genesis root (a tree holding only this leaf) is computed here.
    /// @param liveness Due-block rule and depositor limit (see `Liveness`).
    /// @param admin Receives DEFAULT_ADMIN_ROLE.
    /// @param sequencer Receives SEQUENCER_ROLE.
    constructor(
        IERC20 token_,
        IGroth16Verifier verifier_,
        IExitVerifier exitVerifier_,
        address[4] memory hashers,
        Shape memory shape,
        address treasury_,
        Liveness memory liveness,
        address admin,
        address sequencer
    ) {
        // A zero treasury would make leaf 0 empty: unopenable, so no batch could be proved.
        if (treasury_ == address(0)) revert ZeroTreasury();
        if (
            liveness.exitDelay == 0 || liveness.blocksPerBatch == 0 || shape.queueOps == 0 || shape.depth == 0
                || shape.depth > 16 || shape.newAccounts >= shape.slots || liveness.maxDepositors >= (uint256(1) << (2 * shape.depth))
        ) revert InvalidLiveness();
        token = token_;
        verifier = verifier_;
        exitVerifier = exitVerifier_;
        poseidon2 = IPoseidon2(hashers[0]);
        poseidon4 = IPoseidon4(hashers[1]);
        poseidon5 = IPoseidon5(hashers[2]);
        poseidon6 = IPoseidon6(hashers[3]);
        depth = shape.depth;
        uint256 idx = (2 * shape.depth + 7) / 8;
        indexBytes = idx;
        queueOpsPerBatch = shape.queueOps;
        bool tickets = shape.ticketCommits + shape.winners > 0;
        uint256 ticketBytes = tickets
            ? shape.ticketCommits * (2 * idx + COMMIT_BYTES) + shape.winners * (idx + WINNER_BYTES) + idx + POOL_BYTES
            : 0;
        commitOffset = shape.queueOps * (idx + AMOUNT_BYTES) + shape.bundles * (idx + BUNDLE_BYTES);
        bodyLength = commitOffset + ticketBytes + shape.slots * (idx + SLOT_BYTES) + shape.newAccounts * ADDRESS_BYTES;
        ticketCommits = shape.ticketCommits;
        ticketWinners = shape.winners;
        publicInputCount = tickets ? 9 : 6;
        verifySelector = tickets
            ? bytes4(keccak256("verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[9])"))
            : bytes4(keccak256("verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[6])"));
        exitDelay = liveness.exitDelay;
        blocksPerBatch = liveness.blocksPerBatch;
        maxDepositors = liveness.maxDepositors;
        treasury = treasury_;
        domain = (block.chainid << 160) | uint256(uint160(address(this)));
        uint256 genesisRoot = _genesisRoot(treasury_, shape.depth);
        stateRoot = genesisRoot;
        batchRoot[0] = genesisRoot;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(SEQUENCER_ROLE, sequencer);
    }

    /// @dev The queue and batches work until exit mode begins; after it, only exits and claims do.
    modifier whenRunning() {
        if (exitMode) revert BatchesStopped();
        _;
    }

    /// @dev Root of a `d`-level 4-ary tree whose only used leaf is leaf 0 = (treasury, 0, 0, 0, 0).
    function _genesisRoot(address treasury_, uint256 d) internal view returns (uint256 node) {
        node = poseidon5.poseidon([uint256(uint160(treasury_)), 0, 0, 0, 0]);
        uint256 zero = 0;
        for (uint256 l = 0; l < d; l++) {
            node = poseidon4.poseidon([node, zero, zero, zero]);
            zero = poseidon4.poseidon([zero, zero, zero, zero]);
        }
    }

    // ---------------------------------------------------------------- queue

    /// @notice Escrows `amount` OPEN for the caller's layer-2 account and queues the deposit.
    /// @dev The sequencer credits the caller's existing leaf, or a new one, in a later batch.
    /// At most `maxDepositors` distinct addresses ever deposit, so a deposit always finds a leaf.
    /// @param amount OPEN base units, at least 1 (approve this contract first).
    /// @param ax Baby Jubjub public key x (0 keeps the account's key); providers sign receipts with it.
    /// @param ay Baby Jubjub public key y.
    function deposit(uint96 amount, uint256 ax, uint256 ay) external nonReentrant whenRunning {
        if (amount == 0) revert ZeroAmount();
        if (ax >= FIELD || ay >= FIELD) revert KeyNotInField();
        if (!isDepositor[msg.sender] && msg.sender != treasury) {
            if (depositorCount >= maxDepositors) revert DepositorLimitReached(maxDepositors);
            isDepositor[msg.sender] = true;
            depositorCount += 1;
        }
        token.safeTransferFrom(msg.sender, address(this), amount);
        pendingDeposits += amount;
        uint256 index = _enqueue(KIND_DEPOSIT, msg.sender, amount, ax, ay, 0);
        emit DepositQueued(index, msg.sender, amount, ax, ay, queueHashAt[index + 1]);
    }

    /// @notice Queues a request to withdraw the whole balance of layer-2 account `accountIndex`.
    /// @dev The batch that consumes it moves the balance to `claimable[msg.sender]` if the leaf
    /// belongs to the caller, and does nothing otherwise. The sequencer cannot skip it.
    /// @param accountIndex The caller's leaf in the state tree.
    function requestWithdrawal(uint256 accountIndex) external whenRunning {
        if (accountIndex >= (uint256(1) << (2 * depth))) revert AccountIndexOutOfRange(accountIndex);
        uint256 index = _enqueue(KIND_WITHDRAWAL, msg.sender, 0, 0, 0, accountIndex);
        emit WithdrawalRequested(index, msg.sender, accountIndex, queueHashAt[index + 1]);
    }

    function _enqueue(uint8 kind, address account, uint96 amount, uint256 ax, uint256 ay, uint256 accountIndex) internal returns (uint256 index) {
        index = queueLength;
        uint256 op = poseidon6.poseidon([uint256(kind), uint256(uint160(account)), uint256(amount), ax, ay, accountIndex]);
        uint256 next = poseidon2.poseidon([queueHashAt[index], op]);
        queueHashAt[index + 1] = next;
        queuedOps[index] = QueuedOp(account, amount, kind, _nextDueBlock(index));
        queueLength = index + 1;
    }

    /// @dev Due block of queued operation `index` (docs/PROTOCOL.md section 4):
    /// due_i = max(now + exitDelay, due_(i-NQ) + blocksPerBatch). A sequencer that lands a batch of
    /// NQ operations every `blocksPerBatch` blocks consumes op i within `blocksPerBatch` of op i - NQ,
    /// so whatever the arrival pattern (a burst in one block, one request per block, one every k
    /// blocks) no deadline comes faster than that pace can meet. Due blocks never decrease along
    /// the queue, so the head's is the earliest.
    function _nextDueBlock(uint256 index) internal returns (uint64 due) {
        due = uint64(block.number + exitDelay);
        uint256 slot = index % queueOpsPerBatch;
        if (index >= queueOpsPerBatch) {
            uint64 paced = recentDue[slot] + uint64(blocksPerBatch);
            if (paced > due) due = paced;
        }
        recentDue[slot] = due;
    }

    /// @notice The due block the next queued operation would get if it were queued in this block.
    function nextDueBlock() external view returns (uint256 due) {
        due = block.number + exitDelay;
        uint256 index = queueLength;
        if (index >= queueOpsPerBatch) {
            uint256 paced = uint256(recentDue[index % queueOpsPerBatch]) + blocksPerBatch;
            if (paced > due) due = paced;
        }
    }

    // ---------------------------------------------------------------- batches

    /// @notice Applies a proved batch: checks the proof against the stored root, the queue
    /// and the body, stores the new root, consumes `opsConsumed` queued operations and
    /// records the batch's withdrawals. In an instance with tickets it first records the
    /// beacons that are due, and the proof's winners are drawn under `beacon[beaconBatch]`.
    /// @param newRoot The state root after the batch.
    /// @param opsConsumed How many of the oldest queued operations the batch applied.
    /// @param beaconBatch The batch whose beacon decides this batch's winners (ignored without tickets).
    /// @param body The batch public data (docs/PROTOCOL.md), exactly `bodyLength` bytes.
    /// @param proof Groth16 proof as [a.x, a.y, b.x1, b.x0, b.y1, b.y0, c.x, c.y].
    function submitBatch(uint256 newRoot, uint256 opsConsumed, uint256 beaconBatch, bytes calldata body, uint256[8] calldata proof)
        external
        onlyRole(SEQUENCER_ROLE)
        nonReentrant
    {
        if (exitMode || _overdue()) revert BatchesStopped();
        if (publicInputCount == 9) _recordDueBeacons();
        if (body.length != bodyLength) revert BodyLengthMismatch(body.length, bodyLength);
        if (newRoot >= FIELD) revert RootNotInField();
        uint256 head = queueHead;
        uint256 available = queueLength - head;
        if (opsConsumed > queueOpsPerBatch || opsConsumed > available) {
            revert TooManyQueueOps(opsConsumed, available < queueOpsPerBatch ? available : queueOpsPerBatch);
        }

        uint256 oldRoot = stateRoot;
        uint256 bodyHash = uint256(sha256(body)) >> 3;
        _verify(_publicInputs(oldRoot, newRoot, head, opsConsumed, bodyHash, beaconBatch), proof);

        // batchCount before this batch is its 0-based number, the circuit's batchNumber.
        uint256 batchNumber = ++batchCount;
        stateRoot = newRoot;
        batchRoot[batchNumber] = newRoot;
        queueHead = head + opsConsumed;
        if (publicInputCount == 9 && _commitsTickets(body)) _awaitBeacon(batchNumber - 1);
        _consumeQueue(batchNumber, head, opsConsumed, body);
        emit BatchSubmitted(batchNumber, oldRoot, newRoot, head, opsConsumed, bodyHash);
    }

    /// @dev Batch `index` (0-based) committed ticket bundles in this block: a later block records its beacon.
    function _awaitBeacon(uint256 index) internal {
        commitBlock[index] = block.number;
        beaconQueue.push(index);
        emit TicketsCommitted(index, block.number);
    }

    /// @dev The batch circuit's public inputs, packed as 32-byte words (docs/PROTOCOL.md §6, §16.3):
    /// six, then batchNumber (the count of batches before this one), beaconBatch and its beacon
    /// in an instance with tickets. An unrecorded beacon is 0, which the circuit refuses for any winner.
    function _publicInputs(uint256 oldRoot, uint256 newRoot, uint256 head, uint256 ops, uint256 bodyHash, uint256 beaconBatch)
        internal
        view
        returns (bytes memory pub)
    {
        pub = abi.encodePacked(oldRoot, newRoot, queueHashAt[head], queueHashAt[head + ops], domain, bodyHash);
        if (publicInputCount == 9) pub = abi.encodePacked(pub, batchCount, beaconBatch, beacon[beaconBatch]);
    }

    /// @dev Calls the exported verifier, whose last argument is uint256[6] or uint256[9]. Fixed-size
    /// arrays ABI-encode in place, so the call data is the selector followed by 8 + N words.
    function _verify(bytes memory pub, uint256[8] calldata proof) internal view {
        (bool success, bytes memory ret) = address(verifier).staticcall(abi.encodePacked(verifySelector, proof, pub));
        if (!success || ret.length != 32 || abi.decode(ret, (bool)) != true) revert InvalidProof();
    }

    /// @dev True if any ticket-commit record of the body is used (count, at 2 indices into the record, nonzero).
    function _commitsTickets(bytes calldata body) internal view returns (bool) {
        uint256 record = 2 * indexBytes + COMMIT_BYTES;
        for (uint256 i = 0; i < ticketCommits; i++) {
            uint256 at = commitOffset + i * record + 2 * indexBytes;
            if (uint16(bytes2(body[at:at + 2])) != 0) return true;
        }
        return false;
    }

    /// @dev Records the beacon of every batch with ticket commits stored in an earlier block than
    /// this one. Each batch is recorded once, so the loop is paid for once per batch.
    function _recordDueBeacons() internal {
        uint256 h = beaconHead;
        uint256 n = beaconQueue.length;
        if (h == n) return;
        uint256 value = block.prevrandao >> BEACON_SHIFT;
        if (value == 0) value = 1;
        while (h < n) {
            uint256 batchIndex = beaconQueue[h];
            if (commitBlock[batchIndex] >= block.number) break;
            beacon[batchIndex] = value;
            emit BeaconRecorded(batchIndex, value);
            h++;
        }
        beaconHead = h;
    }

    /// @notice Records the beacon of batch `batchNumber` (0-based) and of every earlier batch whose
    /// beacon is due, so that its winners can be proved before the next batch. Anyone may call.
    /// @dev Reverts with BeaconNotDue unless the batch committed tickets in an earlier block.
    /// @param batchNumber The batch whose beacon must be recorded after the call.
    function recordBeacon(uint256 batchNumber) external whenRunning {
        _recordDueBeacons();
        if (beacon[batchNumber] == 0) revert BeaconNotDue(batchNumber);
    }

    /// @dev Releases consumed deposits from `pendingDeposits` and records withdrawals,
    /// whose amounts are body record i: accountIdx (`indexBytes`), amount (12 bytes).
    function _consumeQueue(uint256 batchNumber, uint256 head, uint256 count, bytes calldata body) internal {
        for (uint256 i = 0; i < count; i++) {
            QueuedOp memory op = queuedOps[head + i];
            if (op.kind == KIND_DEPOSIT) {
                pendingDeposits -= op.amount;
            } else {
                uint256 at = i * (indexBytes + AMOUNT_BYTES) + indexBytes;
                uint256 amount = uint96(bytes12(body[at:at + AMOUNT_BYTES]));
                if (amount > 0) {
                    claimable[op.account] += amount;
                    emit WithdrawalRecorded(batchNumber, op.account, amount);
                }
            }
            delete queuedOps[head + i];
        }
    }

    /// @notice Pays `account` every OPEN that batches recorded as withdrawn to it.
    /// @dev Anyone may call; the OPEN always goes to the account's own address.
    /// @param account The L1 address whose withdrawals are paid.
    function claim(address account) external nonReentrant {
        uint256 amount = claimable[account];
        if (amount == 0) revert NothingToClaim(account);
        claimable[account] = 0;
        token.safeTransfer(account, amount);
        emit Claimed(account, amount);
    }

    // ---------------------------------------------------------------- forced exit

    /// @notice True when the oldest queued operation is past its due block.
    function overdue() external view returns (bool) {
        return _overdue();
    }

    function _overdue() internal view returns (bool) {
        uint256 head = queueHead;
        return head < queueLength && block.number > uint256(queuedOps[head].dueBlock);
    }

    /// @notice Stops batches for good once a queued operation is overdue; anyone may call.
    function activateExitMode() external {
        if (exitMode) revert BatchesStopped();
        if (!_overdue()) revert NoOverdueOperation();
        exitMode = true;
        emit ExitModeActivated(queueHead, queuedOps[queueHead].dueBlock);
    }

    /// @notice In exit mode, pays an account's balance at the last root to its address.
    /// @dev A Groth16 proof of the exit circuit (circuits/exit.circom) shows that the leaf (`account`,
    /// `balance`, and a key and nonce that stay private) sits at `index` under `stateRoot`: ~230k gas
    /// whatever the depth, where checking a 4-ary Poseidon path here would cost ~73k gas per level.
    /// @param index The account's leaf index.
    /// @param account The leaf's address (receives the OPEN).
    /// @param balance The leaf's balance.
    /// @param proof Groth16 proof as [a.x, a.y, b.x1, b.x0, b.y1, b.y0, c.x, c.y].
    function exit(uint256 index, address account, uint256 balance, uint256[8] calldata proof) external nonReentrant {
        if (!exitMode) revert NotInExitMode();
        if (index >= (uint256(1) << (2 * depth))) revert AccountIndexOutOfRange(index);
        if (exited[index]) revert AlreadyExited(index);
        if (account == address(0) || balance >= (uint256(1) << 96)) revert LeafFieldOutOfRange();
        bool ok = exitVerifier.verifyProof(
            [proof[0], proof[1]],
            [[proof[2], proof[3]], [proof[4], proof[5]]],
            [proof[6], proof[7]],
            [stateRoot, index, uint256(uint160(account)), balance]
        );
        if (!ok) revert InvalidExitProof();
        exited[index] = true;
        if (balance > 0) token.safeTransfer(account, balance);
        emit Exited(index, account, balance);
    }

    /// @notice In exit mode, returns a queued deposit that no batch consumed to its depositor.
    /// @param queueIndex The deposit's position in the queue.
    function refundDeposit(uint256 queueIndex) external nonReentrant {
        if (!exitMode) revert NotInExitMode();
        QueuedOp memory op = queuedOps[queueIndex];
        if (queueIndex < queueHead || op.kind != KIND_DEPOSIT || refunded[queueIndex]) revert NotRefundable(queueIndex);
        refunded[queueIndex] = true;
        pendingDeposits -= op.amount;
        token.safeTransfer(op.account, op.amount);
        emit DepositRefunded(queueIndex, op.account, op.amount);
    }
}
