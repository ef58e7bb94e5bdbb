// The STS and EC2 peers of bench/isolate.ts, in their own thread with the same latency per call: the provider is not
// in Keydesk's process, so its request handling must not be billed to Keydesk's event loop. Messages:
// {hosts: n} → {sts, ec2, accessKeyId, secretAccessKey, instanceIds}; 'stats' → {calls: [{peer, action, ms}]};
// 'reset' clears the logs; 'close'. Test support only.
import { parentPort, workerData } from 'node:worker_threads';
import { startEc2Peer } from '../e2e/peers/ec2.ts';
import { startStsPeer } from '../e2e/peers/sts.ts';

const latencyMs = (workerData as { latencyMs: number }).latencyMs;
const sts = await startStsPeer({ latencyMs });
const ec2 = await startEc2Peer(sts, { latencyMs });

parentPort?.on('message', (m: unknown) => {
  if (m && typeof m === 'object' && 'hosts' in m) {
    const user = sts.sts.addUser({ name: 'responder' });
    ec2.iam.allow(user.arn, ['ec2:*']);
    // A VPC per host (its subnet, and another subnet under its own ACL, where isolate cuts connections): a network ACL
    // holds only 20 entries each way, as on AWS.
    const instanceIds = Array.from({ length: Number((m as { hosts: number }).hosts) }, () => {
      const vpc = ec2.addVpc({ ipv6: true });
      const hostSubnet = ec2.addSubnet(vpc.vpcId);
      const other = ec2.addSubnet(vpc.vpcId);
      ec2.addNetworkAcl(vpc.vpcId, { subnetIds: [other.subnetId] });
      const web = ec2.addSecurityGroup(vpc.vpcId, 'web');
      return ec2.addInstance({ subnetId: hostSubnet.subnetId, interfaces: 2, groups: [web.groupId] }).instanceId;
    });
    parentPort?.postMessage({
      sts: sts.url,
      ec2: ec2.url,
      accessKeyId: user.accessKeyId,
      secretAccessKey: user.secretAccessKey,
      instanceIds
    });
  } else if (m === 'stats') {
    // EC2's log names the action (every EC2 call is POST /); the harness's log has how long each answer took.
    const timed = (p: typeof sts | typeof ec2) => p.control.requests.map((r) => r.ms ?? 0);
    const ec2Ms = timed(ec2);
    parentPort?.postMessage({
      calls: [
        ...timed(sts).map((ms) => ({ peer: 'sts', action: 'sts', ms })),
        ...ec2.calls.map((c, i) => ({ peer: 'ec2', action: c.action, ms: ec2Ms[i] ?? 0 }))
      ]
    });
  } else if (m === 'reset') {
    sts.control.requests.length = 0;
    ec2.control.requests.length = 0;
    ec2.calls.length = 0;
    parentPort?.postMessage('reset');
  } else if (m === 'close') {
    void Promise.all([ec2.close(), sts.close()]).then(() => parentPort?.close());
  }
});
