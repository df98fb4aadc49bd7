'use strict';
// Test harness for real-client tests: runs dledger-namesrv and a dledger-broker group as real
// processes on 127.0.0.1 (free ports, private temporary directory), and a minimal RocketMQ
// remoting client (JSON headers) to ask the name server for cluster info and to create topics.
// Everything it starts is killed by stopAll() (also on process exit).

const childProcess = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const started = new Set();
process.on('exit', () => {
  for (const child of started) {
    try { child.kill('SIGKILL'); } catch (_) { /* already gone */ }
  }
});

function sleep(ms) {
  return new Promise(resolve => setTimeout(resolve, ms));
}

// Polls `condition` (sync or async) every `intervalMs` until it returns a truthy value or
// `limitMs` passes; returns the last value.
async function eventually(condition, limitMs, intervalMs = 100) {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await condition();
    if (value || Date.now() >= deadline) return value;
    await sleep(intervalMs);
  }
}

// Ports this process has handed out: the kernel may give the same port to two consecutive
// listen(0) calls once the first server is closed, and a group needs distinct ports.
const handedOutPorts = new Set();

function kernelPickedPort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// A TCP port on 127.0.0.1 that was free a moment ago and was not handed out before by this process.
async function freePort() {
  for (let attempt = 0; attempt < 1000; attempt++) {
    const port = await kernelPickedPort();
    if (!handedOutPorts.has(port)) {
      handedOutPorts.add(port);
      return port;
    }
  }
  throw new Error('freePort: the kernel kept picking ports this process already used');
}

// One RocketMQ remoting request over a fresh connection (JSON header, serialize type 0).
// Resolves with {code, remark, extFields, body}; rejects on connection errors or after timeoutMs.
function remotingRequest(addr, code, extFields, body, timeoutMs = 5000) {
  const [host, portText] = addr.split(':');
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(portText), host);
    let buffer = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`remoting ${code} to ${addr}: no reply within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('error', err => {
      clearTimeout(timer);
      reject(new Error(`remoting ${code} to ${addr}: ${err.message}`));
    });
    socket.on('connect', () => {
      const header = Buffer.from(JSON.stringify({
        code, language: 'JAVA', version: 121, opaque: 1, flag: 0,
        extFields: Object.fromEntries(Object.entries(extFields || {}).map(([k, v]) => [k, String(v)])),
      }));
      const payload = body ? Buffer.from(body) : Buffer.alloc(0);
      const frame = Buffer.alloc(8);
      frame.writeInt32BE(4 + header.length + payload.length, 0);
      frame.writeInt32BE(header.length, 4);
      socket.write(Buffer.concat([frame, header, payload]));
    });
    socket.on('data', chunk => {
      buffer = Buffer.concat([buffer, chunk]);
      if (buffer.length < 4) return;
      const length = buffer.readInt32BE(0);
      if (buffer.length < 4 + length) return;
      clearTimeout(timer);
      socket.destroy();
      const headerLength = buffer.readInt32BE(4) & 0xffffff;
      const header = JSON.parse(buffer.subarray(8, 8 + headerLength).toString('utf8'));
      resolve({
        code: header.code,
        remark: header.remark,
        extFields: header.extFields || {},
        body: buffer.subarray(8 + headerLength, 4 + length),
      });
    });
  });
}

class Process {
  constructor(name, binary, args, logPath) {
    this.name = name;
    this.binary = binary;
    this.args = args;
    this.logPath = logPath;
    this.child = null;
  }

  start() {
    const log = fs.openSync(this.logPath, 'a');
    this.child = childProcess.spawn(this.binary, this.args, { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    started.add(this.child);
    const child = this.child;
    child.on('exit', () => started.delete(child));
  }

  get running() {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  async kill(signal = 'SIGKILL') {
    if (!this.running) return;
    const child = this.child;
    const exited = new Promise(resolve => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }

  logTail(lines = 30) {
    try {
      return fs.readFileSync(this.logPath, 'utf8').split('\n').slice(-lines).join('\n');
    } catch (_) {
      return '(no log)';
    }
  }
}

// A name server and one broker group of `replicas` members, all on 127.0.0.1.
class Cluster {
  constructor({ namesrvBinary, brokerBinary, brokerName = 'broker-a', replicas = 3,
    registerIntervalMs = 1000, extraBrokerConfig = '' }) {
    this.namesrvBinary = namesrvBinary;
    this.brokerBinary = brokerBinary;
    this.brokerName = brokerName;
    this.replicas = replicas;
    this.registerIntervalMs = registerIntervalMs;
    this.extraBrokerConfig = extraBrokerConfig;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dledger-clients-'));
    this.brokers = [];
  }

  async start() {
    this.namesrvPort = await freePort();
    this.namesrvAddr = `127.0.0.1:${this.namesrvPort}`;
    this.namesrv = new Process('namesrv', this.namesrvBinary,
      ['-p', `listenPort=${this.namesrvPort}`], path.join(this.dir, 'namesrv.log'));
    this.namesrv.start();

    const members = [];
    for (let i = 0; i < this.replicas; i++) {
      members.push({
        id: `n${i}`, listenPort: await freePort(), peerPort: await freePort(),
        adminPort: await freePort(),
      });
    }
    const peers = members.map(m => `${m.id}-127.0.0.1:${m.peerPort}`).join(';');
    const adminPeers = members.map(m => `${m.id}-127.0.0.1:${m.adminPort}`).join(';');
    const brokerPeers = members.map(m => `${m.id}-127.0.0.1:${m.listenPort}`).join(';');
    for (const m of members) {
      const conf = path.join(this.dir, `${m.id}.conf`);
      fs.writeFileSync(conf, [
        'brokerClusterName = DefaultCluster',
        `brokerName = ${this.brokerName}`,
        'brokerIP1 = 127.0.0.1',
        `listenPort = ${m.listenPort}`,
        `namesrvAddr = ${this.namesrvAddr}`,
        `storePathRootDir = ${path.join(this.dir, m.id)}`,
        'enableDLegerCommitLog = true',
        `dLegerGroup = ${this.brokerName}`,
        `dLegerPeers = ${peers}`,
        `dLegerSelfId = ${m.id}`,
        'adminHost = 127.0.0.1',
        `adminPort = ${m.adminPort}`,
        `adminPeers = ${adminPeers}`,
        `brokerPeers = ${brokerPeers}`,
        `registerIntervalMs = ${this.registerIntervalMs}`,
        // Shared, loaded CI machines: timeouts wide enough that only the kill -9 moves leadership.
        'electionTimeoutMinMs = 1000',
        'electionTimeoutMaxMs = 2000',
        'heartbeatIntervalMs = 100',
        this.extraBrokerConfig,
        '',
      ].join('\n'));
      const proc = new Process(m.id, this.brokerBinary, ['-c', conf],
        path.join(this.dir, `${m.id}.log`));
      proc.address = `127.0.0.1:${m.listenPort}`;
      proc.start();
      this.brokers.push(proc);
    }
  }

  // GET_BROKER_CLUSTER_INFO (106) from the name server: {brokerId: addr} of our broker name,
  // or {} when it is not registered (or the name server does not answer).
  async brokerAddrs() {
    try {
      const reply = await remotingRequest(this.namesrvAddr, 106, {}, null);
      if (reply.code !== 0) return {};
      const info = JSON.parse(reply.body.toString('utf8'));
      const entry = (info.brokerAddrTable || {})[this.brokerName];
      return (entry && entry.brokerAddrs) || {};
    } catch (_) {
      return {};
    }
  }

  // Waits until the name server lists a master (brokerId 0) that is one of our running brokers
  // (and not `except`); returns that broker's Process, or null.
  async waitForMaster(limitMs, except = null) {
    return eventually(async () => {
      const addrs = await this.brokerAddrs();
      const master = this.brokers.find(b => b.running && b.address === addrs['0'] && b !== except);
      return master || null;
    }, limitMs, 200);
  }

  // UPDATE_AND_CREATE_TOPIC (17) on the master (or on `via`, e.g. a group address whose replica
  // forwards it); resolves when the name server routes the topic.
  async createTopic(topic, queueNums, limitMs, via = null) {
    let address = via;
    if (!address) {
      const master = await this.waitForMaster(limitMs);
      if (!master) throw new Error('no master registered with the name server');
      address = master.address;
    }
    const reply = await remotingRequest(address, 17, {
      topic, defaultTopic: 'TBW102', readQueueNums: queueNums, writeQueueNums: queueNums,
      perm: 6, topicFilterType: 'SINGLE_TAG', topicSysFlag: 0, order: false,
    }, null, limitMs);
    if (reply.code !== 0) {
      throw new Error(`UPDATE_AND_CREATE_TOPIC ${topic}: code ${reply.code} ${reply.remark}`);
    }
    const routed = await eventually(async () => {
      try {
        const route = await remotingRequest(this.namesrvAddr, 105, { topic }, null);
        return route.code === 0;
      } catch (_) {
        return false;
      }
    }, limitMs, 200);
    if (!routed) throw new Error(`topic ${topic} never appeared in the name server's routes`);
  }

  async stopAll() {
    for (const b of this.brokers) await b.kill('SIGKILL');
    if (this.namesrv) await this.namesrv.kill('SIGKILL');
  }

  logs() {
    return [this.namesrv, ...this.brokers].filter(Boolean)
      .map(p => `--- ${p.name} (${p.logPath}) ---\n${p.logTail()}`).join('\n');
  }

  removeDir() {
    if (process.env.DLEDGER_KEEP_TEST_DIRS) return;
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

module.exports = { Cluster, eventually, freePort, remotingRequest, sleep };
