from cargotrace.cli.app import main

main()
