'use strict';
// The npm RocketMQ client `ali-ons` against two 3-replica groups, broker-a and broker-b, that
// register with one dledger-namesrv (real processes on 127.0.0.1): its producer spreads messages
// over the queues of both groups.
//
//   node tests/clients/scale_out_alions_test.js --namesrv <dledger-namesrv> --broker <dledger-broker>
//        [--tools <dir holding node_modules/ali-ons>]   (default: $DLEDGER_TOOLS_DIR or build/tools)
//
// Property: ProducerSpreadsOverEveryQueueOfBothGroups: with the topic on both groups (4 queues
// each) and routed by the name server, 40 sends are all SEND_OK and every one of the 8 queues
// (brokerName, queueId) received at least one. The C++ test tests/broker/process/scale_out_test.cpp
// covers clusterList, `updateTopic -c`, read-back and a master kill.
// Exit status 0 when the property holds, 1 otherwise.

const assert = require('node:assert/strict');
const { Cluster, eventually, remotingRequest } = require('./harness');
const { clientLog, loadAliOns, logger, parseArgs, runAndExit } = require('./client_common');

const TOPIC = 'ScaleOutAliOnsTopic';
const QUEUES = 4;
const SENDS = 40;

async function main() {
  const args = parseArgs(process.argv, 'scale_out_alions_test.js');
  const ons = loadAliOns(args.tools);
  const clusterA = new Cluster({ namesrvBinary: args.namesrv, brokerBinary: args.broker,
    brokerName: 'broker-a' });
  let clusterB = null;
  let producer = null;
  await runAndExit(clusterA, 1, async () => {
    await clusterA.start();
    // broker-b's configs end with a second namesrvAddr line naming broker-a's name server (the last
    // occurrence of a key wins); the name server its Cluster object starts is stopped at once.
    clusterB = new Cluster({ namesrvBinary: args.namesrv, brokerBinary: args.broker,
      brokerName: 'broker-b', extraBrokerConfig: `namesrvAddr = ${clusterA.namesrvAddr}` });
    await clusterB.start();
    await clusterB.namesrv.kill('SIGKILL');
    clusterB.namesrvAddr = clusterA.namesrvAddr;

    await clusterA.createTopic(TOPIC, QUEUES, 60000);
    await clusterB.createTopic(TOPIC, QUEUES, 60000);
    const routed = await eventually(async () => {
      try {
        const reply = await remotingRequest(clusterA.namesrvAddr, 105, { topic: TOPIC }, null);
        if (reply.code !== 0) return false;
        const route = JSON.parse(reply.body.toString('utf8'));
        return route.queueDatas.length === 2 && route.brokerDatas.length === 2;
      } catch (_) {
        return false;
      }
    }, 60000, 200);
    assert.ok(routed, `the route of ${TOPIC} never named both groups`);

    producer = new ons.Producer({
      nameSrv: clusterA.namesrvAddr, httpclient: {}, producerGroup: 'ScaleOutProducerGroup',
      instanceName: 'scale-out-producer', logger, pollNameServerInteval: 1000,
    });
    producer.on('error', err => clientLog.push(`ERROR producer ${err.message}`));
    await producer.ready();
    const perQueue = new Map();
    for (let seq = 0; seq < SENDS; seq++) {
      const result = await producer.send(new ons.Message(TOPIC, 'scale', Buffer.from(`m-${seq}`)));
      assert.equal(result.sendStatus, 'SEND_OK', `send ${seq}: ${JSON.stringify(result)}`);
      const queue = `${result.messageQueue.brokerName}/${result.messageQueue.queueId}`;
      perQueue.set(queue, (perQueue.get(queue) || 0) + 1);
    }
    const expected = [];
    for (const name of ['broker-a', 'broker-b']) {
      for (let q = 0; q < QUEUES; q++) expected.push(`${name}/${q}`);
    }
    assert.deepEqual([...perQueue.keys()].sort(), expected,
      `queues used: ${JSON.stringify([...perQueue.entries()])}`);
    console.log(`ok ProducerSpreadsOverEveryQueueOfBothGroups ${JSON.stringify([...perQueue])}`);
  }, async () => {
    if (producer) await producer.close();
    if (clusterB) {
      await clusterB.stopAll();
      clusterB.removeDir();
    }
  });
}

main();
