'use strict';
// The npm RocketMQ client `ali-ons` (pure JavaScript, RocketMQ 4.x remoting, JSON headers) against
// dledger-namesrv and a 3-replica dledger-broker group, all real processes on 127.0.0.1.
//
//   node tests/clients/alions_client_test.js --namesrv <dledger-namesrv> --broker <dledger-broker>
//        [--tools <dir holding node_modules/ali-ons>]   (default: $DLEDGER_TOOLS_DIR or build/tools)
//
// Properties checked (each a step below; the first failure stops the run and prints the logs):
//   ProducerConnectionListsTheLiveProducer: GET_PRODUCER_CONNECTION_LIST (204) on the master
//     lists the producer, learned from its own heartbeats.
//   QueryMessageFindsMessagesByTheirKeys: QUERY_MESSAGE (12) finds a message by one of the keys
//     the client set, every message by a key they share, and answers QUERY_NOT_FOUND otherwise.
//   MessagesArriveIntact: body (text, binary, a compressed 6 KiB body), tags, keys and user
//     properties come back exactly as sent, and the consumer sees the producer's msgIds.
//   RetryTopicIsRoutedAfterTheFirstHeartbeat: the consumer group's %RETRY%<group> topic (which
//     every push consumer subscribes to) is routed by the name server without any send-back.
//   RestartedConsumerResumesFromCommittedOffsets: a consumer of the same group started after the
//     first one closed receives the new messages and none of the committed ones.
//   NoAcknowledgedMessageLostAcrossMasterKill: a producer sending continuously while the master
//     is killed with SIGKILL loses no acknowledged message: the consumer eventually sees every
//     acknowledged msgId.
// The clients poll routes, heartbeat and rebalance every 1-2 s (defaults are 10-30 s) to keep the
// run short; nothing else is tuned. ali-ons missing is a failure (never a silent pass): run
// scripts/install-tools.sh, which installs it into build/tools.
// Exit status 0 when every property holds, 1 otherwise.

const assert = require('node:assert/strict');
const { Cluster, eventually, remotingRequest, sleep } = require('./harness');
const { clientLog, loadAliOns, logger, parseArgs, runAndExit } = require('./client_common');

const TOPIC = 'AliOnsTopic';
const GROUP = 'AliOnsConsumerGroup';
const fastTimers = {
  pollNameServerInteval: 1000,
  heartbeatBrokerInterval: 2000,
  rebalanceInterval: 2000,
  persistConsumerOffsetInterval: 1000,
};

// Connection errors to a killed broker are reported as 'error' events; an unhandled one would
// end the process, so every client (and ali-ons' shared inner producer) logs them instead.
function logErrors(client, name) {
  client.on('error', err => clientLog.push(`ERROR ${name} ${err.message}`));
}
// ali-ons creates one inner producer (for send-backs) from the options of the first client that
// starts, sharing that client's connection pool; created here first, it has its own.
async function startInnerProducer(ons, namesrvAddr) {
  const inner = await ons.Producer.getDefaultProducer({
    nameSrv: namesrvAddr, httpclient: {}, instanceName: 'inner-producer', logger, ...fastTimers,
  });
  logErrors(inner, 'inner-producer');
}

// close() removes every listener but a closed client may still report a late error.
async function closeClient(client, name) {
  await client.close();
  logErrors(client, `${name} (closed)`);
}

function makeMessage(ons, seq, phase) {
  let body;
  if (seq % 10 === 3) {
    body = Buffer.alloc(6 * 1024, 0);  // compressed by the client (over 4 KiB)
    for (let i = 0; i < body.length; i++) body[i] = (i * 7 + seq) & 0xff;
  } else if (seq % 10 === 7) {
    body = Buffer.from([0, 1, 2, 0xfe, 0xff, seq & 0xff]);  // binary
  } else {
    body = Buffer.from(`message ${phase}-${seq} ✓ ${'x'.repeat(seq % 50)}`);
  }
  const msg = new ons.Message(TOPIC, seq % 2 ? 'TagOdd' : 'TagEven', body);
  msg.keys = [`key-${phase}-${seq}`, 'shared-key'];
  msg.properties.phase = phase;
  msg.properties.seq = String(seq);
  msg.properties.color = seq % 3 ? 'blue' : 'green with spaces';
  return msg;
}

// Sends `count` messages of `phase`; returns [{msgId, seq, expected}].
async function produce(ons, producer, phase, count) {
  const sent = [];
  for (let seq = 0; seq < count; seq++) {
    const msg = makeMessage(ons, seq, phase);
    const expected = makeMessage(ons, seq, phase);
    const result = await producer.send(msg);
    assert.equal(result.sendStatus, 'SEND_OK', `send ${phase}-${seq}: ${JSON.stringify(result)}`);
    assert.match(result.msgId, /^[0-9A-F]{32}$/, `send ${phase}-${seq}: msgId ${result.msgId}`);
    sent.push({ msgId: result.msgId, seq, expected });
  }
  return sent;
}

// A push consumer of GROUP on TOPIC recording every delivery (duplicates included).
async function startConsumer(ons, namesrvAddr, instanceName) {
  const consumer = new ons.Consumer({
    nameSrv: namesrvAddr, httpclient: {}, consumerGroup: GROUP, instanceName, logger,
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET', ...fastTimers,
  });
  const deliveries = [];
  consumer.subscribe(TOPIC, '*', async msg => {
    deliveries.push(msg);
  });
  logErrors(consumer, instanceName);
  await consumer.ready();
  return { consumer, deliveries };
}

function checkIntact(delivered, sent) {
  const { expected } = sent;
  assert.equal(delivered.topic, TOPIC);
  assert.ok(Buffer.from(delivered.body).equals(expected.body),
    `body of ${expected.properties.phase}-${sent.seq} differs`);
  assert.equal(delivered.tags, expected.tags);
  assert.equal(delivered.keys, expected.keys);
  for (const key of ['phase', 'seq', 'color']) {
    assert.equal(delivered.properties[key], expected.properties[key], `property ${key}`);
  }
}

async function messagesArriveIntactAndRestartResumes(ons, cluster) {
  const producer = new ons.Producer({
    nameSrv: cluster.namesrvAddr, httpclient: {}, producerGroup: 'AliOnsProducerGroup',
    instanceName: 'producer-intact', logger, ...fastTimers,
  });
  logErrors(producer, 'producer-intact');
  await producer.ready();
  const first = await produce(ons, producer, 'first', 20);

  // ProducerConnectionListsTheLiveProducer: GET_PRODUCER_CONNECTION_LIST (204), what
  // `mqadmin producerConnection` asks the master, lists the producer from its heartbeats.
  const producerListed = await eventually(async () => {
    const master = await cluster.waitForMaster(10000);
    if (!master) return false;
    const reply = await remotingRequest(master.address, 204, { producerGroup: 'AliOnsProducerGroup' });
    if (reply.code !== 0) return false;
    const clients = JSON.parse(reply.body.toString('utf8')).connectionSet || [];
    return clients.length >= 1 && clients.every(c => c.clientId && c.clientAddr.startsWith('127.0.0.1:'));
  }, 30000, 200);
  assert.ok(producerListed, 'the master never listed the producer of AliOnsProducerGroup');
  console.log('PASS ProducerConnectionListsTheLiveProducer');

  // QueryMessageFindsMessagesByTheirKeys: QUERY_MESSAGE (12), as a client's
  // queryMessage(topic, key, maxNum, begin, end) sends it, on the master.
  const master = await cluster.waitForMaster(10000);
  assert.ok(master, 'no master');
  const query = key => remotingRequest(master.address, 12, {
    topic: TOPIC, key, maxNum: 32, beginTimestamp: 0, endTimestamp: '9223372036854775807',
  });
  const byKey = await query('key-first-0');
  assert.equal(byKey.code, 0, `QUERY_MESSAGE key-first-0: ${byKey.code} ${byKey.remark}`);
  assert.ok(byKey.body.includes(first[0].expected.body), 'key-first-0 did not return its body');
  assert.ok(!byKey.body.includes(Buffer.from('key-first-1 ')), 'key-first-0 returned another message');
  const shared = await query('shared-key');
  assert.equal(shared.code, 0, `QUERY_MESSAGE shared-key: ${shared.code} ${shared.remark}`);
  for (const s of first) {
    assert.ok(shared.body.includes(Buffer.from(`key-first-${s.seq} shared-key`)),
      `shared-key did not return first-${s.seq}`);
  }
  const none = await query('no-such-key');
  assert.equal(none.code, 22, `QUERY_MESSAGE no-such-key: ${none.code} (expected QUERY_NOT_FOUND)`);
  console.log('PASS QueryMessageFindsMessagesByTheirKeys');

  // MessagesArriveIntact
  const one = await startConsumer(ons, cluster.namesrvAddr, 'consumer-one');
  const sawAll = (deliveries, batch) => batch.every(s => deliveries.some(d => d.msgId === s.msgId));
  assert.ok(await eventually(() => sawAll(one.deliveries, first), 60000),
    `consumer one saw ${one.deliveries.length} of ${first.length} messages`);
  for (const s of first) checkIntact(one.deliveries.find(d => d.msgId === s.msgId), s);
  await closeClient(one.consumer, 'consumer-one');
  console.log('PASS MessagesArriveIntact');

  // RetryTopicIsRoutedAfterTheFirstHeartbeat: the consumer subscribes to %RETRY%<group> at start;
  // the broker creates it on the group's first heartbeat, as RocketMQ brokers do.
  const retryRouted = await eventually(async () => {
    try {
      return (await remotingRequest(cluster.namesrvAddr, 105, { topic: `%RETRY%${GROUP}` })).code === 0;
    } catch (_) {
      return false;
    }
  }, 30000, 200);
  assert.ok(retryRouted, `the name server has no route for %RETRY%${GROUP}`);
  console.log('PASS RetryTopicIsRoutedAfterTheFirstHeartbeat');

  // RestartedConsumerResumesFromCommittedOffsets. Closing persisted the offsets: the queue offsets
  // the group committed on the master add up to every message of the first batch.
  const committedTotal = async () => {
    const master = await cluster.waitForMaster(10000);
    if (!master) return -1;
    let total = 0;
    for (let queueId = 0; queueId < 4; queueId++) {
      const reply = await remotingRequest(master.address, 14,
        { consumerGroup: GROUP, topic: TOPIC, queueId });
      if (reply.code === 0) total += Number(reply.extFields.offset);
    }
    return total;
  };
  assert.ok(await eventually(async () => (await committedTotal()) === first.length, 30000, 200),
    `committed offsets add up to ${await committedTotal()}, expected ${first.length}`);
  const second = await produce(ons, producer, 'second', 10);
  const two = await startConsumer(ons, cluster.namesrvAddr, 'consumer-two');
  assert.ok(await eventually(() => sawAll(two.deliveries, second), 60000),
    `restarted consumer saw ${two.deliveries.length} messages, expected the ${second.length} new ones`);
  await sleep(1000);  // a re-delivery of old messages would come before or with the new ones
  const firstIds = new Set(first.map(s => s.msgId));
  const redelivered = two.deliveries.filter(d => firstIds.has(d.msgId));
  assert.deepEqual(redelivered.map(d => d.msgId), [],
    'messages committed by the first consumer were delivered again');
  for (const s of second) checkIntact(two.deliveries.find(d => d.msgId === s.msgId), s);
  await closeClient(two.consumer, 'consumer-two');
  await closeClient(producer, 'producer-intact');
  console.log('PASS RestartedConsumerResumesFromCommittedOffsets');
}

async function noAcknowledgedMessageLostAcrossMasterKill(ons, cluster) {
  const consumer = await startConsumer(ons, cluster.namesrvAddr, 'consumer-failover');
  const producer = new ons.Producer({
    nameSrv: cluster.namesrvAddr, httpclient: {}, producerGroup: 'AliOnsProducerGroup',
    instanceName: 'producer-failover', logger, ...fastTimers,
  });
  logErrors(producer, 'producer-failover');
  await producer.ready();

  const acked = [];
  let failures = 0;
  let seq = 0;
  let killedAt = -1;
  const deadline = Date.now() + 90000;
  const oldMaster = await cluster.waitForMaster(30000);
  assert.ok(oldMaster, 'no master before the kill');
  // Keep sending: 30 acknowledged before the kill, then until 30 more are acknowledged after it.
  while (Date.now() < deadline && (killedAt < 0 || acked.length < killedAt + 30)) {
    if (killedAt < 0 && acked.length >= 30) {
      await oldMaster.kill('SIGKILL');
      killedAt = acked.length;
      console.log(`killed master ${oldMaster.name} (${oldMaster.address}) after ${killedAt} acks`);
    }
    const msg = makeMessage(ons, seq, 'failover');
    seq++;
    try {
      const result = await producer.send(msg);
      if (result.sendStatus === 'SEND_OK') acked.push(result.msgId);
      else failures++;
    } catch (err) {
      failures++;
      await sleep(100);
    }
  }
  console.log(`failover: ${acked.length} acknowledged, ${failures} failed sends, ${seq} attempted`);
  assert.ok(killedAt >= 0 && acked.length >= killedAt + 30,
    `producer got only ${acked.length - Math.max(killedAt, 0)} acknowledgements after the kill`);
  const newMaster = await cluster.waitForMaster(30000, oldMaster);
  assert.ok(newMaster, 'no new master after the kill');

  const seen = () => new Set(consumer.deliveries.map(d => d.msgId));
  const allSeen = await eventually(() => {
    const ids = seen();
    return acked.every(id => ids.has(id));
  }, 90000, 200);
  const ids = seen();
  const missing = acked.filter(id => !ids.has(id));
  assert.ok(allSeen, `${missing.length} acknowledged messages never consumed: ${missing.slice(0, 5)}`);
  await closeClient(consumer.consumer, 'consumer-failover');
  await closeClient(producer, 'producer-failover');
  console.log('PASS NoAcknowledgedMessageLostAcrossMasterKill');
}

async function main() {
  const args = parseArgs(process.argv, 'alions_client_test.js');
  const ons = loadAliOns(args.tools);
  const cluster = new Cluster({ namesrvBinary: args.namesrv, brokerBinary: args.broker });
  await runAndExit(cluster, 4, async () => {
    await cluster.start();
    await cluster.createTopic(TOPIC, 4, 60000);
    await startInnerProducer(ons, cluster.namesrvAddr);
    await messagesArriveIntactAndRestartResumes(ons, cluster);
    await noAcknowledgedMessageLostAcrossMasterKill(ons, cluster);
  });
}

main();
