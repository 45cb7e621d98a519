// `poa datanet create|upload|list|slash`: datanets through the sequencer's
// /v1/datanets, and slashing directly on L1 by the curator.
// Uploads are signed here (the contributor's EIP-712 consent) and relayed by the service.
import { Command, Option } from "commander";
import { readFileSync } from "node:fs";
import { canonicalRecord, canonicalText, contributionHash } from "../attribution/datanet/content.js";
import { contributionTokenRoot, describeRevert, registryAt, signConsent, signDatanetRequest, signTokenConsent, SLASH_REASONS } from "../attribution/datanet/registry.js";
import { api, connect, type L1Opts } from "../ops/client.js";

type Opts = L1Opts & { registry?: string };

async function contributorAndRegistry(o: Opts) {
  const c = await connect(o);
  const address = o.registry ?? c.info.registry;
  if (!address) throw new Error("no DatanetRegistry: pass --registry <address> (or POA_REGISTRY), or run npm start for the local one");
  return { wallet: c.wallet, registry: registryAt(address, c.provider) };
}

export function datanetCommands(l1Options: (c: Command) => Command): Command {
  const datanet = new Command("datanet").description("community datasets with on-chain provenance (DatanetRegistry)");
  const withRegistry = (c: Command) => l1Options(c).addOption(new Option("--registry <address>", "DatanetRegistry address (default: the local deployment)").env("POA_REGISTRY"));

  withRegistry(datanet.command("create").description("create a datanet (the sequencer's relayer pays the gas)"))
    .requiredOption("--name <name>", "short name, at most 64 bytes")
    .requiredOption("--license <id>", "license of the data, e.g. CC-BY-4.0")
    .addOption(new Option("--kind <kind>", "text or json records").choices(["text", "json"]).default("text"))
    .option("--description <text>", "what the datanet holds", "")
    .option("--curator <address>", "curator (default: this account)")
    .action(async (o) => {
      const { wallet, registry } = await contributorAndRegistry(o);
      const request = { name: o.name, description: o.description, license: o.license, kind: o.kind, curator: o.curator ?? wallet.address, creator: wallet.address, deadline: Math.floor(Date.now() / 1000) + 600 };
      const r = await api(o.api, "POST", "/v1/datanets", { ...request, signature: await signDatanetRequest(wallet, registry, request) });
      console.log(`datanet ${r.datanet.id} "${r.datanet.name}" (${r.datanet.kind}, ${r.datanet.license}), curator ${r.datanet.curator}, tx ${r.txHash}`);
    });

  withRegistry(datanet.command("upload <datanetId>").description("contribute a file: text, a JSON record, or --jsonl records one per line"))
    .requiredOption("--file <path>", "the content")
    .option("--jsonl", "the file holds one JSON record per line: upload each")
    .action(async (id, o) => {
      const { wallet, registry } = await contributorAndRegistry(o);
      const d = await api(o.api, "GET", `/v1/datanets/${id}`);
      const raw = readFileSync(o.file);
      const items: unknown[] = d.kind === "text" ? [raw.toString("utf8")] : o.jsonl ? raw.toString("utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l)) : [JSON.parse(raw.toString("utf8"))];
      for (const item of items) {
        const bytes = d.kind === "text" ? canonicalText(raw) : canonicalRecord(item);
        const signature = await signConsent(wallet, registry, Number(id), contributionHash(bytes));
        // And the commitment of its tokens, which proofs of token attribution open (docs/PROTOCOL.md §11.1).
        const tokenSignature = await signTokenConsent(wallet, registry, Number(id), contributionHash(bytes), await contributionTokenRoot(bytes));
        const signed = { contributor: wallet.address, signature, tokenSignature };
        const p = await api(o.api, "POST", `/v1/datanets/${id}/contributions`, d.kind === "text" ? { ...signed, text: item } : { ...signed, record: item });
        console.log(`contribution ${p.id}: ${p.contentHash} by ${p.contributor} (tx ${p.txHash}), tokens ${p.tokenRoot}`);
      }
    });

  withRegistry(datanet.command("slash <contributionId>").description("as the datanet's curator, slash a bad contribution on L1 (its stake goes to the curator)"))
    .addOption(new Option("--reason <reason>", "why").choices([...SLASH_REASONS]).makeOptionMandatory())
    .action(async (id, o) => {
      const { wallet, registry } = await contributorAndRegistry(o);
      const tx = await (registry.connect(wallet) as typeof registry).slash(Number(id), SLASH_REASONS.indexOf(o.reason)).catch((e: unknown) => {
        throw new Error(`the registry refused to slash contribution ${id}: ${describeRevert(registry, e)}`);
      });
      const r = await tx.wait();
      const ev = r.logs.map((l: never) => registry.interface.parseLog(l)).find((l: { name: string } | null) => l?.name === "ContributionSlashed");
      console.log(`contribution ${id} slashed (${o.reason}); stake taken: ${ev.args.stakeTaken} base units, tx ${r.hash}`);
    });

  datanet
    .command("list [datanetId]")
    .description("list datanets, or one datanet's contributions with provenance")
    .option("--api <url>", "sequencer API", process.env.POA_API ?? `http://127.0.0.1:${process.env.POA_PORT ?? 8080}`)
    .action(async (id, o) => {
      if (id === undefined) {
        for (const d of (await api(o.api, "GET", "/v1/datanets")).datanets) {
          console.log(`${d.id}\t${d.name}\t${d.kind}\t${d.license}\t${d.contributions} contributions\tcurator ${d.curator}`);
        }
      } else {
        for (const c of (await api(o.api, "GET", `/v1/datanets/${id}/contributions`)).contributions) {
          console.log(`${c.id}\t${c.contentHash}\t${c.contributor}\t${c.registeredAt}\ttx ${c.txHash}${c.slashed ? "\tSLASHED" : ""}`);
        }
      }
    });
  return datanet;
}
