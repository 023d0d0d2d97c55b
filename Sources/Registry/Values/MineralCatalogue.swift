/// The minerals the registry folds: the EU Critical Raw Materials Act list (2024, Annex II), the
/// USGS 2022 list of critical minerals, and rare-earth permanent magnets, extensible by config.
///
/// The catalogue is part of the *fold*, not of entry validity: two nodes with different
/// extensions store and relay the same entries, and each folds the minerals it knows.
public struct MineralCatalogue: Sendable, Hashable {
    public struct Mineral: Sendable, Hashable {
        public let id: MineralID
        public let name: String
        /// Which lists name it: "EU-CRMA-2024", "US-USGS-2022", "alliance", or "config".
        public let sources: [String]
        /// Harmonized System (2022) codes its trade is reported under (UN Comtrade, customs):
        /// ores and concentrates, then refined forms. Empty where the mineral shares a basket
        /// heading with others and has none of its own pinned here.
        public let hsCodes: [String]
    }

    public private(set) var minerals: [MineralID: Mineral]
    private var aliases: [String: MineralID]

    public init(extensions: [(id: String, name: String)] = []) throws(RegistryValueError) {
        var minerals: [MineralID: Mineral] = [:]
        for (id, name, eu, us) in Self.builtIn {
            var sources: [String] = []
            if eu { sources.append("EU-CRMA-2024") }
            if us { sources.append("US-USGS-2022") }
            if !eu && !us { sources.append("alliance") }
            let mineral = Mineral(id: MineralID(trusted: id), name: name, sources: sources, hsCodes: Self.hsCodes[id] ?? [])
            minerals[mineral.id] = mineral
        }
        for (id, name) in extensions {
            let mineralID = try MineralID(id)
            guard minerals[mineralID] == nil else { continue }
            minerals[mineralID] = Mineral(id: mineralID, name: name, sources: ["config"], hsCodes: [])
        }
        self.minerals = minerals
        self.aliases = [
            "aluminum": MineralID(trusted: "aluminium"), "baryte": MineralID(trusted: "barite"),
            "bauxite": MineralID(trusted: "aluminium"), "borate": MineralID(trusted: "boron"),
            "rare-earth-magnet": MineralID(trusted: "rare-earth-magnets")
        ]
    }

    /// The built-in catalogue only.
    public static let standard: MineralCatalogue = try! MineralCatalogue()

    public func contains(_ id: MineralID) -> Bool { minerals[id] != nil }

    /// Resolves what an operator typed (an id or a common alias such as "aluminum") to a known id.
    public func resolve(_ text: String) throws(RegistryValueError) -> MineralID {
        let lowered = text.lowercased().replacingOccurrences(of: " ", with: "-")
        if let alias = aliases[lowered] { return alias }
        let id = try MineralID(lowered)
        guard contains(id) else { throw .unknownMineral(text) }
        return id
    }

    public var sorted: [Mineral] { minerals.values.sorted { $0.id < $1.id } }

    /// HS 2022 codes by mineral id: headings (4 digits) and subheadings (6).
    private static let hsCodes: [String: [String]] = {
        var codes: [String: [String]] = [
            "aluminium": ["2606", "2818.20", "7601"], "antimony": ["2617.10", "8110"], "arsenic": ["2804.80"], "barite": ["2511.10"],
            "bismuth": ["8106"], "boron": ["2528", "2810"], "chromium": ["2610"], "cobalt": ["2605", "8105"], "coking-coal": ["2701.12"],
            "copper": ["2603", "7403"], "feldspar": ["2529.10"], "fluorspar": ["2529.21", "2529.22"], "gallium": ["8112.92"],
            "germanium": ["8112.92"], "graphite": ["2504"], "helium": ["2804.29"], "indium": ["8112.92"], "lithium": ["2825.20", "2836.91"],
            "magnesium": ["8104"], "manganese": ["2602", "8111"], "nickel": ["2604", "7502"], "niobium": ["2615.90", "8112.92"],
            "phosphate-rock": ["2510"], "phosphorus": ["2804.70"], "platinum": ["7110.11", "7110.19"], "palladium": ["7110.21", "7110.29"],
            "rhodium": ["7110.31", "7110.39"], "iridium": ["7110.41", "7110.49"], "ruthenium": ["7110.41", "7110.49"],
            "platinum-group-metals": ["7110"], "rare-earth-magnets": ["8505.11"], "cesium": ["2805.19"], "rubidium": ["2805.19"],
            "silicon-metal": ["2804.61", "2804.69"], "tantalum": ["2615.90", "8103"], "tellurium": ["2804.50"], "tin": ["2609", "8001"],
            "titanium": ["2614", "8108"], "tungsten": ["2611", "8101"], "vanadium": ["2615.90", "8112.92"], "zinc": ["2608", "7901"],
            "zirconium": ["2615.10", "8109"]
        ]
        // Rare-earth metals, scandium and yttrium (2805.30), and their compounds (2846).
        for id in [
            "cerium", "dysprosium", "erbium", "europium", "gadolinium", "holmium", "lanthanum", "lutetium", "neodymium", "praseodymium",
            "samarium", "scandium", "terbium", "thulium", "ytterbium", "yttrium", "heavy-rare-earths", "light-rare-earths"
        ] {
            codes[id] = ["2805.30", "2846"]
        }
        return codes
    }()

    /// (id, display name, on the EU list, on the US list)
    private static let builtIn: [(String, String, Bool, Bool)] = [
        ("aluminium", "Aluminium / bauxite / alumina", true, true),
        ("antimony", "Antimony", true, true),
        ("arsenic", "Arsenic", true, true),
        ("barite", "Barite (baryte)", true, true),
        ("beryllium", "Beryllium", true, true),
        ("bismuth", "Bismuth", true, true),
        ("boron", "Boron / borate", true, false),
        ("cerium", "Cerium", false, true),
        ("cesium", "Cesium", false, true),
        ("chromium", "Chromium", false, true),
        ("cobalt", "Cobalt", true, true),
        ("coking-coal", "Coking coal", true, false),
        ("copper", "Copper", true, false),
        ("dysprosium", "Dysprosium", false, true),
        ("erbium", "Erbium", false, true),
        ("europium", "Europium", false, true),
        ("feldspar", "Feldspar", true, false),
        ("fluorspar", "Fluorspar", true, true),
        ("gadolinium", "Gadolinium", false, true),
        ("gallium", "Gallium", true, true),
        ("germanium", "Germanium", true, true),
        ("graphite", "Graphite (natural)", true, true),
        ("hafnium", "Hafnium", true, true),
        ("helium", "Helium", true, false),
        ("heavy-rare-earths", "Heavy rare earth elements", true, false),
        ("holmium", "Holmium", false, true),
        ("indium", "Indium", false, true),
        ("iridium", "Iridium", false, true),
        ("lanthanum", "Lanthanum", false, true),
        ("light-rare-earths", "Light rare earth elements", true, false),
        ("lithium", "Lithium", true, true),
        ("lutetium", "Lutetium", false, true),
        ("magnesium", "Magnesium", true, true),
        ("manganese", "Manganese", true, true),
        ("neodymium", "Neodymium", false, true),
        ("nickel", "Nickel", true, true),
        ("niobium", "Niobium", true, true),
        ("palladium", "Palladium", false, true),
        ("phosphate-rock", "Phosphate rock", true, false),
        ("phosphorus", "Phosphorus", true, false),
        ("platinum", "Platinum", false, true),
        ("platinum-group-metals", "Platinum group metals", true, false),
        ("praseodymium", "Praseodymium", false, true),
        ("rare-earth-magnets", "Rare-earth permanent magnets", false, false),
        ("rhodium", "Rhodium", false, true),
        ("rubidium", "Rubidium", false, true),
        ("ruthenium", "Ruthenium", false, true),
        ("samarium", "Samarium", false, true),
        ("scandium", "Scandium", true, true),
        ("silicon-metal", "Silicon metal", true, false),
        ("strontium", "Strontium", true, false),
        ("tantalum", "Tantalum", true, true),
        ("tellurium", "Tellurium", false, true),
        ("terbium", "Terbium", false, true),
        ("thulium", "Thulium", false, true),
        ("tin", "Tin", false, true),
        ("titanium", "Titanium", true, true),
        ("tungsten", "Tungsten", true, true),
        ("vanadium", "Vanadium", true, true),
        ("ytterbium", "Ytterbium", false, true),
        ("yttrium", "Yttrium", false, true),
        ("zinc", "Zinc", false, true),
        ("zirconium", "Zirconium", false, true)
    ]
}
