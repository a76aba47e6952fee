"""What the test folders share: plain helpers, never fixtures or tests (fixtures are in the
conftests). A test imports from here and from nowhere else in tests/.

    layout.py          each folder's markers and whether it uses the session stack
    programs.py        the program recorded under mocks, once per config per session
    pack.py            the policy pack fed resources as the engine would
    deploy_fakes.py    a fake AWS account and Pulumi CLI for the deploy driver's tests
    physical_names.py  which recorded names AWS allows once, and where
    random_fragment.py random IAM policies and requests of the prover's fragment
    handler_calls.py   the Lambda handler called as API Gateway calls it
    signed_tokens.py   ID tokens signed here, and an issuer serving their keys
    api_document.py    openapi.json, read for the contract tests
    generated.py       checked-in generated files (ACCESS.md, openapi.json): stale or not
    private.py         processes a test starts for itself (private names, an emulator)
    processes.py       a service's processes and sockets, a venv's packages, served keys
    local_apply.py     what the local-apply tests build (a handler zip, a fake target)
    session_stack.py   the session stack called as users call it
    deployed.py        what the LocalStack leg reads back
    browser.py         a browser tab (its console errors, refusals, screenshots)
    flows.py           what a user does in the pets app, as Playwright steps
    site_server.py     site/ served on loopback as the bucket serves it
    fake_aws.py        a strict stand-in for STS and the API, and the fake shop around it
"""
