from cubby.cli import main

main()
