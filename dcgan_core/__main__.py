from dcgan_core.cli import main

raise SystemExit(main())
