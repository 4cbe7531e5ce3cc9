import { describe, expect, it } from "vitest";
import { fleetFanoutDefinition, fleetStateMachineStatements, LAMBDA_RETRY, MAX_FLEET_ITEMS } from "../../../stacks/fleet-fanout-definition.ts";

/** The fan-out's definition with an Organizations OU (stacks/fleet-fanout-definition.ts): Targets is the discovery Task. */

const fn = (name: string) => `arn:aws:lambda:eu-west-1:999988887777:function:ops-autopilot-prod-${name}`;

describe("fleet fan-out definition with an OU", () => {
  it("Targets invokes fleet-targets with the job, the item limit and the state machine's ARN; the Map hands the targets on to the Summary", () => {
    const d = fleetFanoutDefinition({
      job: "copy",
      jobFunctionArn: fn("copy"),
      summaryFunctionArn: fn("fleet-summary"),
      targetsFunctionArn: fn("fleet-targets"),
      items: [],
    });
    expect(d.States.Targets).toEqual({
      Type: "Task",
      Resource: "arn:aws:states:::lambda:invoke",
      Arguments: {
        FunctionName: fn("fleet-targets"),
        Payload: { source: "fleet-targets", job: "copy", maxItems: MAX_FLEET_ITEMS, stateMachine: "{% $states.context.StateMachine.Id %}" },
      },
      Retry: [LAMBDA_RETRY],
      Output: "{% {'items': $states.result.Payload.items} %}",
      Next: "FanOut",
    });
    expect(d.States.FanOut.Output).toBe(
      "{% {'targets': [$states.input.items.{'account': account, 'accountName': accountName, 'region': region}], 'results': $states.result} %}",
    );
    expect(d.States.Summary.Arguments.Payload).toMatchObject({ targets: "{% $states.input.targets %}", results: "{% $states.input.results %}" });
  });

  it("the state machine's role invokes the targets function too, only when there is one", () => {
    const base = {
      jobFunction: fn("copy"),
      summaryFunction: fn("fleet-summary"),
      stateMachine: "arn:aws:states:eu-west-1:999988887777:stateMachine:x",
      logGroup: "arn:aws:logs:eu-west-1:999988887777:log-group:x",
    };
    expect(fleetStateMachineStatements({ ...base, targetsFunction: fn("fleet-targets") })[0]).toEqual({
      Action: ["lambda:InvokeFunction"],
      Resource: [fn("copy"), `${fn("copy")}:*`, fn("fleet-summary"), `${fn("fleet-summary")}:*`, fn("fleet-targets"), `${fn("fleet-targets")}:*`],
    });
    expect(fleetStateMachineStatements(base)[0]).toEqual({
      Action: ["lambda:InvokeFunction"],
      Resource: [fn("copy"), `${fn("copy")}:*`, fn("fleet-summary"), `${fn("fleet-summary")}:*`],
    });
  });
});
