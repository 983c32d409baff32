from radlite_cli.main import main

main()
