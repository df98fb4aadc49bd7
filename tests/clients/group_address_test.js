'use strict';
// Group-address mode (brokerGroupAddress) with the npm client `ali-ons` against dledger-namesrv and
// a 3-replica dledger-broker group, all real processes on 127.0.0.1. A small TCP proxy stands in
// for the Kubernetes Service in front of the replicas: each new connection goes to the next
// replica that accepts it.
//
//   node tests/clients/group_address_test.js --namesrv <dledger-namesrv> --broker <dledger-broker>
//        [--tools <dir holding node_modules/ali-ons>]
//
// Properties checked:
//   InvalidGroupAddressIsRefused: brokerGroupAddress = "not an address" exits with status 2 and
//     a message naming the key and the value.
//   LeaderRegistersTheGroupAddressAsMaster: the name server lists the group address as brokerId 0
//     and the followers' own addresses as brokerId >= 1.
//   ClientReconnectsThroughGroupAddressWithoutRouteRefresh: the clients never refresh their routes
//     during the test (10 min poll); after a kill -9 of the master they reconnect through the group
//     address, sends are acknowledged again, the group address stays brokerId 0 and the consumer
//     sees every acknowledged msgId.
// Exit status 0 when every property holds, 1 otherwise.

const assert = require('node:assert/strict');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { Cluster, eventually, freePort, sleep } = require('./harness');
const { clientLog, loadAliOns, logger, parseArgs, runAndExit } = require('./client_common');

// Forwards each accepted connection to the first of `targets()` (rotating) that accepts.
function startProxy(port, targets) {
  let next = 0;
  const server = net.createServer(client => {
    client.pause();
    const candidates = targets();
    const tryTarget = attempt => {
      if (attempt >= candidates.length) {
        client.destroy();
        return;
      }
      const [host, targetPort] = candidates[(next + attempt) % candidates.length].split(':');
      const upstream = net.connect(Number(targetPort), host);
      upstream.once('error', () => tryTarget(attempt + 1));
      upstream.once('connect', () => {
        next = (next + attempt + 1) % candidates.length;
        upstream.removeAllListeners('error');
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
        client.on('close', () => upstream.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    tryTarget(0);
  });
  return new Promise(resolve => server.listen(port, '127.0.0.1', () => resolve(server)));
}

const TOPIC = 'GroupAddressTopic';

async function invalidGroupAddressIsRefused(brokerBinary) {
  const conf = path.join(fs.mkdtempSync('/tmp/dledger-group-address-'), 'bad.conf');
  fs.writeFileSync(conf, [
    'brokerName = broker-a', 'dLegerGroup = broker-a', 'dLegerPeers = n0-127.0.0.1:1',
    'dLegerSelfId = n0', `storePathRootDir = ${path.dirname(conf)}`,
    'brokerGroupAddress = not an address', '',
  ].join('\n'));
  const run = childProcess.spawnSync(brokerBinary, ['-c', conf], { encoding: 'utf8', timeout: 60000 });
  fs.rmSync(path.dirname(conf), { recursive: true, force: true });
  assert.equal(run.status, 2, `exit status ${run.status}, output ${run.stderr}`);
  assert.match(run.stderr, /brokerGroupAddress = 'not an address'/);
  console.log('PASS InvalidGroupAddressIsRefused');
}

async function main() {
  const args = parseArgs(process.argv, 'group_address_test.js');
  const ons = loadAliOns(args.tools);
  await invalidGroupAddressIsRefused(args.broker);

  const groupPort = await freePort();
  const groupAddress = `127.0.0.1:${groupPort}`;
  const cluster = new Cluster({
    namesrvBinary: args.namesrv, brokerBinary: args.broker,
    extraBrokerConfig: `brokerGroupAddress = ${groupAddress}`,
  });
  let proxy = null;
  const clients = [];
  const cleanup = async () => {
    for (const client of clients) {
      try { await client.close(); } catch (_) { /* the group is being torn down */ }
      client.on('error', () => {});
    }
    if (proxy) proxy.close();
  };
  await runAndExit(cluster, 3, async () => {
    await cluster.start();
    proxy = await startProxy(groupPort, () => cluster.brokers.map(b => b.address));

    // LeaderRegistersTheGroupAddressAsMaster
    const registered = await eventually(async () => {
      const addrs = await cluster.brokerAddrs();
      return Object.keys(addrs).length === 3 && addrs['0'] === groupAddress ? addrs : null;
    }, 60000, 200);
    assert.ok(registered, `name server never listed ${groupAddress} as brokerId 0 with 2 followers: ` +
      JSON.stringify(await cluster.brokerAddrs()));
    const own = new Set(cluster.brokers.map(b => b.address));
    for (const [id, addr] of Object.entries(registered)) {
      if (id !== '0') assert.ok(own.has(addr), `brokerId ${id} is ${addr}, not a replica's own address`);
    }
    console.log('PASS LeaderRegistersTheGroupAddressAsMaster');

    // ClientReconnectsThroughGroupAddressWithoutRouteRefresh (default 30 s route poll)
    await cluster.createTopic(TOPIC, 2, 60000, groupAddress);
    const noRouteRefresh = { pollNameServerInteval: 10 * 60 * 1000 };
    const inner = await ons.Producer.getDefaultProducer({
      nameSrv: cluster.namesrvAddr, httpclient: {}, instanceName: 'inner-producer', logger,
      ...noRouteRefresh,
    });
    inner.on('error', err => clientLog.push(`ERROR inner ${err.message}`));
    const consumer = new ons.Consumer({
      nameSrv: cluster.namesrvAddr, httpclient: {}, consumerGroup: 'GroupAddressConsumers',
      instanceName: 'group-consumer', logger, consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET', ...noRouteRefresh,
    });
    consumer.on('error', err => clientLog.push(`ERROR consumer ${err.message}`));
    const delivered = new Set();
    consumer.subscribe(TOPIC, '*', async msg => { delivered.add(msg.msgId); });
    const producer = new ons.Producer({
      nameSrv: cluster.namesrvAddr, httpclient: {}, producerGroup: 'GroupAddressProducers',
      instanceName: 'group-producer', logger, ...noRouteRefresh,
    });
    producer.on('error', err => clientLog.push(`ERROR producer ${err.message}`));
    clients.push(consumer, producer);
    await consumer.ready();
    await producer.ready();

    // The master is the replica whose own address is not listed under a follower's brokerId.
    const listed = new Set(Object.entries(registered).filter(([id]) => id !== '0').map(([, a]) => a));
    const master = cluster.brokers.find(b => !listed.has(b.address));
    const acked = [];
    let ackedBeforeKill = -1;
    let seq = 0;
    const deadline = Date.now() + 60000;
    while (Date.now() < deadline && (ackedBeforeKill < 0 || acked.length < ackedBeforeKill + 20)) {
      if (ackedBeforeKill < 0 && acked.length >= 20) {
        await master.kill('SIGKILL');
        ackedBeforeKill = acked.length;
        console.log(`killed master ${master.name} (${master.address}) after ${acked.length} acks`);
      }
      try {
        const result = await producer.send(new ons.Message(TOPIC, 'TagA', `group-address ${seq++}`));
        if (result.sendStatus === 'SEND_OK') acked.push(result.msgId);
      } catch (err) {
        await sleep(100);
      }
    }
    // The clients never refresh their routes during the test (poll interval 10 min), so every
    // send acknowledged after the kill went through the group address.
    assert.ok(ackedBeforeKill >= 0 && acked.length >= ackedBeforeKill + 20,
      `only ${acked.length - Math.max(ackedBeforeKill, 0)} sends acknowledged after the kill`);
    // The old master's registration went with its connection; the new one registers the group
    // address again once it has applied everything committed.
    assert.ok(await eventually(async () => (await cluster.brokerAddrs())['0'] === groupAddress,
      30000, 200), `the group address is not brokerId 0 after the failover: ${
      JSON.stringify(await cluster.brokerAddrs())}`);
    assert.ok(await eventually(() => acked.every(id => delivered.has(id)), 90000, 200),
      `${acked.filter(id => !delivered.has(id)).length} acknowledged messages never consumed`);
    console.log('PASS ClientReconnectsThroughGroupAddressWithoutRouteRefresh');
  }, cleanup);
}

main();
