"""The local stack: the real program applied to a local AWS emulator, with a local OpenID
Connect provider, and the tools that measure what it does. Harness only: the product
(program, components, handlers, site) never imports this package.

    __main__.py       the CLI: python -m devstack up|down|seed|token|matrix|prove|install
    stack.py          the whole local stack: start the emulator and the identity provider,
                      apply the programs, write the outputs; and stop it all
    demo_pets.py      the demo pets `up` puts in the shop, through the API
    apply/            the local apply: a program under Pulumi's mocks, each resource created
                      in the emulator with boto3 (apply/__init__.py has its own map)
    idp/              the identity provider: server.mjs (Node, oidc-provider) with its demo
                      users (users.json); idp_process.py starts and stops it,
                      login_client.py logs in headlessly, tokens.py mints deliberately bad
                      tokens, demo_users.py reads the users
    processes/        processes and installs: procs.py (start, find by pid record, stop),
                      emulator.py (MiniStack or LocalStack), installer.py (the emulators'
                      venvs, with uv; the Python each is built by comes from
                      scripts/interpreter.py), their requirements files and the LocalStack
                      plugin localstack_ext/
    pulumi_engine.py  the real Pulumi CLI in place of the local apply, where it is installed
    clients.py        every boto3 client for the target (localstack-client)
    calls.py          calling the API as users do: ID token -> STS -> SigV4-signed requests
    live_matrix.py    the live access matrix: each class (each demo user) calls every route
    probes.py         what the target can evaluate, found by trying it (a skip says why)
    proof.py          devstack prove: the access proof (prover/) of the deployed policies
    paths.py          where the stack keeps its files (.devstack/); errors.py its one error
"""
