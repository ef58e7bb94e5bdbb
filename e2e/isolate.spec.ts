import { startEc2Peer, type Ec2Peer } from './peers/ec2.ts';
import { startStsPeer, type StsPeer } from './peers/sts.ts';
import { expect, test } from './harness/fixtures.ts';

/**
 * Isolating an EC2 host from the app, in Chromium, over the real IPC handler table and services, against the loopback
 * STS and EC2 peers (SigV4 verified, the VPC kept as state): the Run form shows the credential the target picks and
 * its health, the confirm step names the target and the reason, the run's page shows before / after, and the revert
 * puts every interface back on its groups — refused over drift until "Revert anyway".
 */

let sts: StsPeer;
let ec2: Ec2Peer;
test.beforeAll(async () => {
  sts = await startStsPeer();
  ec2 = await startEc2Peer(sts);
});
test.afterAll(async () => {
  await ec2.close();
  await sts.close();
});

function host() {
  const vpc = ec2.addVpc();
  const subnet = ec2.addSubnet(vpc.vpcId);
  const web = ec2.addSecurityGroup(vpc.vpcId, 'web');
  const ssh = ec2.addSecurityGroup(vpc.vpcId, 'ssh');
  const instance = ec2.addInstance({ subnetId: subnet.subnetId, interfaces: 2, groups: [web.groupId, ssh.groupId] });
  const groups = () => instance.networkInterfaceIds.map((id) => ec2.interfaces.get(id)!.groups.map((g) => g.groupId));
  return { vpc, web, ssh, instance, groups };
}

test.describe('isolate an EC2 host from the app', () => {
  test('pick → confirm with the reason → isolated; the page shows before/after; revert restores the groups', async ({ page, kd }) => {
    const user = sts.sts.addUser({ name: `e2e-${kd.canary.slice(-6)}` });
    ec2.iam.allow(user.arn, ['ec2:*']);
    kd.secrets.push(user.secretAccessKey);
    const h = host();
    const before = h.groups();
    const app = kd.session.app();
    app.credentials.add({
      name: 'AWS prod',
      provider: 'aws',
      mode: 'access_key',
      values: {
        access_key_id: user.accessKeyId,
        secret_access_key: user.secretAccessKey,
        region: 'us-east-1',
        sts_endpoint: sts.url,
        ec2_endpoint: ec2.url
      }
    });
    await app.validation.validate('AWS prod');
    await kd.open();

    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Executions' }).click();
    await page.getByLabel('Capability').selectOption('isolate');
    await page.getByLabel('Resource id').fill(h.instance.instanceId);
    // Before Run: the credential the target picks, its health and what the provider said it may do.
    const using = page.getByRole('status', { name: 'Credential this run will use' });
    await expect(using).toContainText('Runs with AWS prod (aws)');
    await expect(using).toContainText('OK');
    await expect(using).toContainText('the provider says it may do this');
    // Once the provider is known, the target is asked its way, and its options appear with their defaults.
    await expect(page.getByLabel('EC2 instance id or ARN')).toHaveValue(h.instance.instanceId);
    await expect(page.getByLabel('Cut existing connections')).toBeChecked();
    await page.getByLabel(/^Reason/).fill('C2 beacon, INC-4712');
    await page.getByRole('button', { name: 'Run', exact: true }).click();

    const confirm = page.getByRole('dialog', { name: `Isolate a host: ${h.instance.instanceId}?` });
    await expect(confirm).toContainText('AWS prod');
    await expect(confirm).toContainText('C2 beacon, INC-4712');
    await kd.axe('isolate confirm');
    // Cancel changes nothing.
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    expect(h.groups()).toEqual(before);
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await page
      .getByRole('dialog', { name: `Isolate a host: ${h.instance.instanceId}?` })
      .getByRole('button', { name: 'Isolate a host' })
      .click();

    const detail = page.getByRole('dialog', { name: `isolate → ${h.instance.instanceId}` });
    await expect(detail.getByText('Succeeded').first()).toBeVisible();
    const quarantine = h.groups();
    expect(quarantine.every((g) => g.length === 1 && !before.flat().includes(g[0]!))).toBe(true);
    await expect(detail.getByRole('region', { name: /^Before/ })).toContainText(h.web.groupId);
    await expect(detail.getByRole('region', { name: /^After/ })).toContainText(quarantine[0]![0]!);
    await kd.axe('isolate run detail');

    // Someone changes the host since: revert is refused, naming what differs, and changes nothing.
    const drifted = ec2.interfaces.get(h.instance.networkInterfaceIds[0]!)!;
    drifted.groups = [{ groupId: h.ssh.groupId, groupName: 'ssh' }];
    await detail.getByRole('button', { name: 'Revert', exact: true }).click();
    await expect(detail.getByText(/Not reverted: .* changed since execution/)).toBeVisible();
    expect(h.groups()[0]).toEqual([h.ssh.groupId]);
    await detail.getByRole('button', { name: 'Revert anyway…' }).click();
    const force = page.getByRole('dialog', { name: `Revert isolate on ${h.instance.instanceId} anyway?` });
    await force.getByRole('button', { name: 'Revert anyway' }).click();
    await expect(detail.getByText('Reverted').first()).toBeVisible();
    expect(h.groups()).toEqual(before);
  });
});
